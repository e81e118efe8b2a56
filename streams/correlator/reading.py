"""Reading whole topics and keeping up with them, without the offset calls brokers get wrong.

Some Kafka-protocol brokers answer ListOffsets (end_offsets, seek_to_end) wrongly; the
high-water mark that comes back with every fetch response is right on all of them, so
"caught up" means: every partition has had a fetch answered, the position has reached its
high-water mark, and a fetch sent after the catch-up began has had time to come back.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from streams.kafka import FETCH_MAX_WAIT_MS

FRESH_FETCH_S = 0.08


class TopicReader:
    """All partitions of some topics, assigned (no group), read from the beginning."""

    def __init__(self, consumer: KafkaConsumer, topics: Sequence[str], timeout_s: float = 30.0):
        self.consumer = consumer
        self.partitions = [
            TopicPartition(topic, number)
            for topic in topics
            for number in sorted(_wait_for_partitions(consumer, topic, timeout_s))
        ]
        consumer.assign(self.partitions)
        consumer.seek_to_beginning(*self.partitions)

    def caught_up(self) -> bool:
        for partition in self.partitions:
            highwater = self.consumer.highwater(partition)
            if highwater is None or self.consumer.position(partition) < highwater:
                return False
        return True

    def read_new(self, timeout_s: float = 60.0) -> list[ConsumerRecord]:
        """Every record published before this call, in partition order, and maybe a few more."""
        records: list[ConsumerRecord] = []
        started = time.monotonic()
        while True:
            batch = self.consumer.poll(timeout_ms=FETCH_MAX_WAIT_MS * 2, max_records=10000)
            for partition in self.partitions:
                records.extend(batch.get(partition, ()))
            waited = time.monotonic() - started
            if not batch and waited >= FRESH_FETCH_S and self.caught_up():
                return records
            if waited > timeout_s:
                raise TimeoutError(f"{len(self.partitions)} partitions not read up to date")

    def close(self) -> None:
        self.consumer.close()


def _wait_for_partitions(consumer: KafkaConsumer, topic: str, timeout_s: float) -> set[int]:
    deadline = time.monotonic() + timeout_s
    while True:
        partitions = consumer.partitions_for_topic(topic)
        if partitions:
            return partitions
        if time.monotonic() > deadline:
            raise TimeoutError(f"topic {topic} has no partitions after {timeout_s:g} s")
        time.sleep(0.2)


def lag(consumer: KafkaConsumer) -> dict[int, int]:
    """Records behind per assigned partition, from fetch high-water marks (unknown: left out)."""
    behind: dict[int, int] = {}
    for partition in consumer.assignment():
        highwater = consumer.highwater(partition)
        if highwater is not None:
            behind[partition.partition] = max(0, highwater - consumer.position(partition))
    return behind
