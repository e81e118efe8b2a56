"""Reading topics through to their end on the embedded broker: every record published before
the read is read, even where a partition's earlier records were still waiting in the client,
and even where the broker's end offsets stop inside the last record batch.

kafka-python leaves a partition out of its fetches while records fetched for it are still
buffered, so the high-water marks of a read's fetches say nothing certain of that partition's
end; the embedded broker's end offsets stop at the last batch's first record. The read goes
up to both (the terminal news behind the correlator's decisions comes this way)."""

from __future__ import annotations

import time

import pytest

from config.kafka import Kafka
from streams.correlator import knowledge
from streams.correlator.knowledge import read_through
from streams.kafka import producer
from streams.reader import TopicReader
from streams.topics import TERMINAL
from tests.fixtures.broker import fresh_topics

pytestmark = pytest.mark.integration

BACKLOG = 3000  # more than a poll hands out at once, fewer than one fetch brings


def send(kafka: Kafka, partition: int, count: int, tag: bytes) -> None:
    # One record batch: one fetch brings all of it.
    client = producer(kafka, acks="all", linger_ms=200, batch_size=1 << 20)
    for number in range(count):
        client.send(kafka.topic(TERMINAL), tag + b"-%d" % number, partition=partition)
    client.flush()
    client.close()


def test_records_published_while_a_partition_was_buffered_are_read_before_the_read_ends(
    broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A broker slower to answer than the read polls (a loaded machine): polls return at
    # once, and an answer comes in a later one.
    monkeypatch.setattr(knowledge, "POLL_MS", 0)
    kafka = fresh_topics(broker.bootstrap, partitions=2)
    send(kafka, 1, 10, b"other")
    reader = TopicReader(kafka, [TERMINAL]).wait_for_partitions()
    try:
        assert sum(len(batch) for batch in read_through(reader, "terminal")) == 10
        send(kafka, 0, BACKLOG, b"backlog")
        # One poll: partition 0's backlog is fetched, a few hundred records handed out, and
        # the rest wait in the client, while partition 1 goes on being fetched.
        first = [received.record.value for received in reader.poll(timeout_ms=2000)]
        assert 0 < len(first) < BACKLOG
        send(kafka, 0, 5, b"later")  # published before the read below
        rest = []
        for batch in read_through(reader, "terminal"):
            for received in batch:
                rest.append(received.record.value)
                time.sleep(0.0002)  # what learning a record takes, about
    finally:
        reader.close()
    read = first + rest
    assert len(read) == len(set(read)) == BACKLOG + 5
    assert {b"later-%d" % n for n in range(5)} <= set(read)


def test_a_batch_longer_than_a_poll_is_read_whole_though_the_end_offset_stops_inside_it(
    broker,
) -> None:
    kafka = fresh_topics(broker.bootstrap, partitions=1)
    send(kafka, 0, BACKLOG, b"batch")
    reader = TopicReader(kafka, [TERMINAL]).wait_for_partitions()
    try:
        # What the broker says the end is: inside the batch (its first record's offset + 1).
        assert knowledge.end_offsets(reader, "terminal")[reader.partitions[0]] < BACKLOG
        read = [r.record.value for batch in read_through(reader, "terminal") for r in batch]
    finally:
        reader.close()
    assert read == [b"batch-%d" % n for n in range(BACKLOG)]
