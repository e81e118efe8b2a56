"""The site's TLS and SASL settings reach every kafka-python client the code builds.

Unit tests of the built client arguments; tests/integration/test_kafka_security.py sends
them to the embedded broker, whose limits are described there.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

import streams.kafka
from config.kafka import Kafka
from streams.kafka import connection_settings
from streams.topics import ACCESS

REPO = Path(__file__).resolve().parents[2]
SECURE = {
    "bootstrap_servers": ["kafka-1:9093", "kafka-2:9093"],
    "security_protocol": "SASL_SSL",
    "ssl_cafile": Path("/etc/quaywatch/kafka/ca.crt"),
    "ssl_certfile": Path("/etc/quaywatch/kafka/client.crt"),
    "ssl_keyfile": Path("/etc/quaywatch/kafka/client.key"),
    "sasl_mechanism": "SCRAM-SHA-512",
    "sasl_username": "quaywatch",
    "sasl_password_env": "QUAYWATCH_TEST_KAFKA_PASSWORD",
}
EXPECTED = {
    "bootstrap_servers": ["kafka-1:9093", "kafka-2:9093"],
    "security_protocol": "SASL_SSL",
    "ssl_cafile": "/etc/quaywatch/kafka/ca.crt",
    "ssl_certfile": "/etc/quaywatch/kafka/client.crt",
    "ssl_keyfile": "/etc/quaywatch/kafka/client.key",
    "sasl_mechanism": "SCRAM-SHA-512",
    "sasl_plain_username": "quaywatch",
    "sasl_plain_password": "from-the-environment",
}
CLIENTS = {"producer": KafkaProducer, "consumer": KafkaConsumer, "admin": KafkaAdminClient}


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, object]]:
    """The arguments each client constructor received, without connecting anywhere."""
    monkeypatch.setenv("QUAYWATCH_TEST_KAFKA_PASSWORD", "from-the-environment")
    received: dict[str, dict[str, object]] = {}
    for kind, real in (
        ("producer", "KafkaProducer"),
        ("consumer", "KafkaConsumer"),
        ("admin", "KafkaAdminClient"),
    ):
        monkeypatch.setattr(
            streams.kafka,
            real,
            lambda *topics, _kind=kind, **kwargs: received.setdefault(_kind, kwargs),
        )
    kafka = Kafka(**SECURE)
    streams.kafka.producer(kafka, client_id="p")
    streams.kafka.consumer(kafka, "group", [ACCESS])
    streams.kafka.admin(kafka, request_timeout_ms=2000)
    return received


@pytest.mark.parametrize("kind", sorted(CLIENTS))
def test_tls_and_sasl_settings_reach_the_client(
    built: dict[str, dict[str, object]], kind: str
) -> None:
    assert EXPECTED.items() <= built[kind].items()


@pytest.mark.parametrize("kind", sorted(CLIENTS))
def test_every_argument_is_one_kafka_python_knows(
    built: dict[str, dict[str, object]], kind: str
) -> None:
    # kafka-python refuses unknown settings only when it is too late: at connect time.
    assert set(built[kind]) <= set(CLIENTS[kind].DEFAULT_CONFIG)


def test_password_in_the_config_is_the_fallback_of_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("QUAYWATCH_TEST_KAFKA_PASSWORD", raising=False)
    kafka = Kafka(**{**SECURE, "sasl_password": "in-the-file"})
    assert connection_settings(kafka)["sasl_plain_password"] == "in-the-file"
    monkeypatch.setenv("QUAYWATCH_TEST_KAFKA_PASSWORD", "from-the-environment")
    assert connection_settings(kafka)["sasl_plain_password"] == "from-the-environment"


def test_plaintext_sends_no_tls_or_sasl_settings() -> None:
    assert connection_settings(Kafka()) == {
        "bootstrap_servers": ["127.0.0.1:9092"],
        "security_protocol": "PLAINTEXT",
    }


def test_no_module_builds_a_kafka_client_around_streams_kafka() -> None:
    """Every client goes through streams.kafka, so none can miss the security settings."""
    builders = re.compile(r"\b(KafkaProducer|KafkaConsumer|KafkaAdminClient|KafkaClient)\(")
    allowed = {
        REPO / "streams" / "kafka.py",
        # The embedded broker's readiness check talks to its own plaintext loopback broker.
        REPO / "streams" / "broker" / "embedded.py",
    }
    offenders = [
        str(path.relative_to(REPO))
        for package in ("quaywatch", "streams", "ingest", "detectors", "config")
        for path in (REPO / package).rglob("*.py")
        if path not in allowed and builders.search(path.read_text())
    ]
    assert not offenders


def test_a_process_may_name_its_own_kafka_user_over_the_sites(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One site file for every process; each role logs in as its own user, held by the ACLs."""
    monkeypatch.setenv("QUAYWATCH_TEST_KAFKA_PASSWORD", "from-the-environment")
    kafka = Kafka(**SECURE, sasl_username_env="QUAYWATCH_TEST_KAFKA_USER")
    monkeypatch.delenv("QUAYWATCH_TEST_KAFKA_USER", raising=False)
    assert connection_settings(kafka)["sasl_plain_username"] == "quaywatch"
    monkeypatch.setenv("QUAYWATCH_TEST_KAFKA_USER", "correlator")
    assert connection_settings(kafka)["sasl_plain_username"] == "correlator"
