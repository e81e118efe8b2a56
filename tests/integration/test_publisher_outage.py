"""A broker outage, or a restart of the publisher, loses no event and delivers none twice.

Each test has its own durable broker so it can stop and start it: records written before the
stop must still be there after it, or "exactly once" could not be checked across the outage.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import pytest

from config.kafka import Kafka
from streams.broker.embedded import EmbeddedBroker
from streams.messages import Message
from streams.publisher import Publisher, PublisherClosed
from streams.reader import TopicReader
from streams.spool import SpoolFull
from streams.topics import ACCESS, Topic
from tests.fixtures.broker import fresh_topics

pytestmark = pytest.mark.integration

ZONES = ("quay-north", "quay-south", "reefer-stack")
SPOOL_BYTES = 8 * 1024 * 1024


class ZoneEntered(Message):
    """A minimal event with the envelope every quaywatch message has, and a per-zone number."""

    SCHEMA_NAME: ClassVar[str] = "test-zone-entered"
    SCHEMA_VERSION: ClassVar[int] = 1

    zone_id: str
    sequence: int


# The access topic, carrying the test's own events, keyed by zone as access events are.
ZONE_EVENTS = Topic(ACCESS.name, ZoneEntered, key="zone_id", writers=ACCESS.writers)


@dataclass(frozen=True)
class Received:
    partition: int
    offset: int
    key: str
    event: ZoneEntered


def zone_entered(number: int) -> ZoneEntered:
    return ZoneEntered.create(
        event_id=f"evt-{number:05d}",
        event_time=datetime.now(UTC),
        zone_id=ZONES[number % len(ZONES)],
        sequence=number,
    )


def publish(publisher: Publisher, numbers: range) -> None:
    for number in numbers:
        event = zone_entered(number)
        publisher.publish(ZONE_EVENTS, event)


def wait_for(condition: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"still not so after {timeout_s} s"
        time.sleep(0.1)


@pytest.fixture
def outage_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    broker = EmbeddedBroker(data_dir=tmp_path / "broker", memory=False)
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def kafka(outage_broker: EmbeddedBroker) -> Kafka:
    return fresh_topics(outage_broker.bootstrap)


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    return tmp_path / "spool"


def read_access_topic(kafka: Kafka, expected: int, timeout_s: float = 60.0) -> list[Received]:
    """Every record on the access topic, in offset order per partition.

    Reads until `expected` distinct events came and then nothing more for a while, so a
    duplicate written after the last new id is still seen. (Tansu's end offsets are wrong, so
    the end of the topic is found by waiting, not by asking.)
    """
    reader = TopicReader(kafka, [ZONE_EVENTS]).wait_for_partitions()
    try:
        received: list[Received] = []
        deadline = time.monotonic() + timeout_s
        quiet_until: float | None = None
        while time.monotonic() < deadline:
            batch = reader.poll(timeout_ms=500)
            received += [
                Received(
                    each.record.partition,
                    each.record.offset,
                    each.record.key.decode(),
                    each.message(),
                )
                for each in batch
            ]
            if len({r.event.event_id for r in received}) >= expected:
                if batch or quiet_until is None:
                    quiet_until = time.monotonic() + 3.0
                elif time.monotonic() > quiet_until:
                    break
        return received
    finally:
        reader.close()


def layout(received: list[Received]) -> str:
    """What each partition holds, as offset:sequence, to tell a gap from a reordering."""
    partitions: dict[int, list[str]] = defaultdict(list)
    for record in sorted(received, key=lambda r: (r.partition, r.offset)):
        partitions[record.partition].append(f"{record.offset}:{record.event.sequence}")
    return "; ".join(f"partition {p}: {' '.join(items)}" for p, items in sorted(partitions.items()))


def assert_each_once_in_order(received: list[Received], numbers: range) -> None:
    counts = Counter(r.event.event_id for r in received)
    expected = {zone_entered(n).event_id for n in numbers}
    missing = sorted(expected - counts.keys())
    twice = sorted(event_id for event_id, count in counts.items() if count > 1)
    unexpected = sorted(counts.keys() - expected)
    assert not missing, f"{len(missing)} events never reached Kafka: {missing[:10]}; " + layout(
        received
    )
    assert not twice, f"{len(twice)} events reached Kafka more than once: {twice[:10]}"
    assert not unexpected, f"events nobody published: {unexpected[:10]}"

    by_key: dict[str, list[Received]] = defaultdict(list)
    for record in sorted(received, key=lambda r: (r.partition, r.offset)):
        by_key[record.key].append(record)
    for key, records in by_key.items():
        assert len({r.partition for r in records}) == 1, f"key {key} spread over partitions"
        sequences = [r.event.sequence for r in records]
        assert sequences == sorted(sequences), f"key {key} out of order: {sequences}"
        assert all(r.event.zone_id == key for r in records)
        assert all(r.event.published_at is not None for r in records)


# Short: the producer's own retries bridge the gap. Long: the outage outlasts the delivery
# timeout, batches fail, and the spool sends them again with a new producer.
OUTAGES = {
    "short": {},
    "longer-than-delivery-timeout": {"request_timeout_ms": 1500, "delivery_timeout_ms": 3000},
}


@pytest.mark.parametrize("outage", OUTAGES)
def test_broker_outage_during_a_run_delivers_every_event_once_and_in_order_per_zone(
    outage_broker: EmbeddedBroker, kafka: Kafka, spool_dir: Path, outage: str
) -> None:
    publisher = Publisher(
        kafka,
        spool_dir,
        SPOOL_BYTES,
        client_id="outage-test",
        producer_settings=OUTAGES[outage],
    )
    try:
        for number in range(150):
            event = zone_entered(number)
            publisher.publish(ZONE_EVENTS, event)
            time.sleep(0.01)
            if number == 49:
                outage_broker.stop()
            if number == 99:
                if outage != "short":
                    wait_for(lambda: publisher.counters.send_errors > 0, timeout_s=30)
                waiting_during_outage = publisher.spool_depth
                outage_broker.start()

        assert publisher.flush(timeout_s=90), f"{publisher.spool_depth} events still spooled"
        assert publisher.spool_depth == 0
        counters = publisher.counters
    finally:
        publisher.close()

    assert waiting_during_outage >= 50  # the outage really kept events back in the spool
    assert counters.accepted == counters.delivered == 150
    assert counters.refused == 0
    assert_each_once_in_order(read_access_topic(kafka, expected=150), range(150))


def test_publisher_started_while_the_broker_is_down_spools_then_delivers(
    outage_broker: EmbeddedBroker, kafka: Kafka, spool_dir: Path
) -> None:
    outage_broker.stop()

    started = time.monotonic()
    publisher = Publisher(kafka, spool_dir, SPOOL_BYTES, client_id="outage-test")
    try:
        publish(publisher, range(30))
        accepted_in_s = time.monotonic() - started
        wait_for(lambda: publisher.counters.connect_errors > 0, timeout_s=15)
        assert publisher.spool_depth == 30

        outage_broker.start()
        assert publisher.flush(timeout_s=60), f"{publisher.spool_depth} events still spooled"
    finally:
        publisher.close()

    assert accepted_in_s < 2.0  # neither the constructor nor publish() waits for the broker
    assert_each_once_in_order(read_access_topic(kafka, expected=30), range(30))


def test_events_left_by_a_closed_publisher_are_delivered_by_the_next_one(
    outage_broker: EmbeddedBroker, kafka: Kafka, spool_dir: Path
) -> None:
    first = Publisher(kafka, spool_dir, SPOOL_BYTES, client_id="outage-test")
    publish(first, range(10))
    assert first.flush(timeout_s=30)
    outage_broker.stop()
    publish(first, range(10, 30))
    first.close(timeout_s=2)
    assert first.spool_depth == 20

    outage_broker.start()
    second = Publisher(kafka, spool_dir, SPOOL_BYTES, client_id="outage-test")
    try:
        publish(second, range(30, 40))
        assert second.flush(timeout_s=60), f"{second.spool_depth} events still spooled"
    finally:
        second.close()

    assert_each_once_in_order(read_access_topic(kafka, expected=40), range(40))


def test_full_spool_refuses_the_newest_event_loudly_and_keeps_the_older_ones(
    tmp_path: Path,
) -> None:
    # Nothing listens on this port: the broker is down for the whole test.
    kafka = Kafka(bootstrap_servers=["127.0.0.1:9"], topic_prefix="nowhere.")
    publisher = Publisher(kafka, tmp_path / "spool", max_spool_bytes=4096, client_id="full")
    kept = 0
    try:
        with pytest.raises(SpoolFull, match="full"):
            for number in range(1000):
                publisher.publish(ZONE_EVENTS, zone_entered(number))
                kept += 1
        assert publisher.counters.refused == 1
        assert publisher.spool_depth == kept > 0
    finally:
        publisher.close(timeout_s=1)

    with pytest.raises(PublisherClosed):
        publisher.publish(ZONE_EVENTS, zone_entered(0))
