"""kafka-python against the embedded broker: acks=all, group offsets, durability, shutdown."""

from __future__ import annotations

import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from kafka import KafkaConsumer

import streams.broker.embedded
from config.kafka import Kafka
from streams.broker.embedded import BrokerError, EmbeddedBroker, free_port
from streams.kafka import consumer, producer
from streams.topics import ACCESS, ALERTS, TOPICS, Topic, create_topics
from tests.fixtures.broker import fresh_topics

pytestmark = pytest.mark.integration


def _produce(kafka: Kafka, values: list[bytes], topic: Topic = ACCESS) -> None:
    """Publish with acks=all and wait for every acknowledgement."""
    client = producer(kafka, acks="all")
    try:
        futures = [
            client.send(kafka.topic(topic), key=value.split(b"-")[0], value=value)
            for value in values
        ]
        for future in futures:
            future.get(timeout=15)
    finally:
        client.close()


def _consume(client: KafkaConsumer, expected: int, timeout_s: float = 30.0) -> list[bytes]:
    """Values polled until `expected` arrived, plus any that trail them within a second."""
    values: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    while len(values) < expected and time.monotonic() < deadline:
        for records in client.poll(timeout_ms=500).values():
            values += [record.value for record in records]
    # Records a wrong offset would deliver again come in the same fetches; one more poll
    # catches any that trail the expected ones.
    for records in client.poll(timeout_ms=1000).values():
        values += [record.value for record in records]
    return values


def _consume_in_group(kafka: Kafka, group: str, expected: int) -> list[bytes]:
    client = consumer(kafka, group, [ACCESS])
    try:
        values = _consume(client, expected)
        client.commit()
    finally:
        client.close()
    return values


def _partitions(kafka: Kafka, topic: str) -> set[int] | None:
    client = consumer(kafka, None)
    try:
        return client.partitions_for_topic(topic)
    finally:
        client.close()


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port on 127.0.0.1 that something else listens on for the whole test."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def _children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


def _read_line(process: subprocess.Popen[str], timeout_s: float) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout_s)
    if not ready:
        process.kill()
        _, stderr = process.communicate()
        pytest.fail(f"no output within {timeout_s:.0f} s; stderr:\n{stderr}")
    return process.stdout.readline().strip()


def test_group_resumes_after_its_committed_offset(kafka_settings: Kafka) -> None:
    first = [f"gate{n}-first".encode() for n in range(4)]
    later = [f"gate{n}-later".encode() for n in range(3)]
    group = f"g-{uuid4().hex[:8]}"

    _produce(kafka_settings, first)
    assert sorted(_consume_in_group(kafka_settings, group, len(first))) == sorted(first)

    _produce(kafka_settings, later)
    assert sorted(_consume_in_group(kafka_settings, group, len(later))) == sorted(later)


def test_durable_broker_keeps_records_and_offsets_across_restart(tmp_path: Path) -> None:
    before = [f"gate{n}-before".encode() for n in range(5)]
    after = [f"gate{n}-after".encode() for n in range(2)]
    with EmbeddedBroker(data_dir=tmp_path, memory=False) as broker:
        kafka = Kafka(bootstrap_servers=[broker.bootstrap], topic_prefix="d.", partitions=3)
        create_topics(kafka)
        _produce(kafka, before)
        assert sorted(_consume_in_group(kafka, "correlator", len(before))) == sorted(before)

        broker.stop()
        broker.start()

        _produce(kafka, after)
        assert sorted(_consume_in_group(kafka, "auditor", 7)) == sorted(before + after)
        assert sorted(_consume_in_group(kafka, "correlator", len(after))) == sorted(after)
    assert (tmp_path / "s3" / "tansu").is_dir()


def test_memory_broker_forgets_its_topics_on_restart() -> None:
    with EmbeddedBroker(data_dir=None, memory=True) as broker:
        kafka = Kafka(bootstrap_servers=[broker.bootstrap], topic_prefix="m.", partitions=2)
        create_topics(kafka)
        assert _partitions(kafka, "m.access") == {0, 1}
        broker.stop()
        broker.start()
        assert not _partitions(kafka, "m.access")  # unknown: None or no partitions


def test_create_topics_gives_every_topic_the_configured_partitions(
    broker: EmbeddedBroker,
) -> None:
    kafka = fresh_topics(broker.bootstrap, partitions=5)
    create_topics(kafka)  # a second run finds them all and changes nothing
    for topic in TOPICS:
        assert _partitions(kafka, kafka.topic(topic)) == {0, 1, 2, 3, 4}, topic.name


def test_kafka_settings_fixture_prefixes_topics_per_test(kafka_settings: Kafka) -> None:
    assert kafka_settings.topic_prefix.startswith("t")
    assert _partitions(kafka_settings, kafka_settings.topic(ALERTS)) == {0, 1, 2}


def test_start_refuses_a_port_in_use(taken_port: int) -> None:
    with pytest.raises(BrokerError, match=f"127.0.0.1:{taken_port} is already in use"):
        EmbeddedBroker(memory=True, port=taken_port).start()


def test_tansu_exiting_early_is_reported_with_its_output(
    monkeypatch: pytest.MonkeyPatch, taken_port: int
) -> None:
    # Skip the port check so the real Tansu meets the taken port and exits.
    monkeypatch.setattr(streams.broker.embedded, "_port_is_free", lambda port: True)
    with pytest.raises(BrokerError, match=r"tansu (exited|panicked)[\s\S]*Address in use"):
        EmbeddedBroker(memory=True, port=taken_port, startup_timeout_s=20).start()


@pytest.mark.parametrize("storage", ["memory", "durable"])
def test_broker_command_prints_bootstrap_and_stops_cleanly_on_sigint(
    storage: str, tmp_path: Path
) -> None:
    port = free_port()
    mode = ["--memory"] if storage == "memory" else ["--data-dir", str(tmp_path)]
    command = [sys.executable, "-m", "quaywatch", "broker", *mode, "--port", str(port)]
    process = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert _read_line(process, timeout_s=60) == f"127.0.0.1:{port}"
        children = _children(process.pid)
        # Tansu, plus nanio when durable.
        assert len(children) == (1 if storage == "memory" else 2)
        kafka = Kafka(bootstrap_servers=[f"127.0.0.1:{port}"])
        assert _partitions(kafka, "quaywatch.access") == {0, 1, 2}

        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert [child for child in children if Path(f"/proc/{child}").exists()] == []
