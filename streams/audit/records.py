"""The recorded log an audit works on: every record of some topics, read up to date.

Ranges are taken by the records' own timestamps after reading the partitions from their start,
because `offsets_for_times` is not answered faithfully by every Kafka-protocol broker; whether
everything is read comes from the fetch high-water marks (`streams.reader.TopicReader`).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from config.kafka import Kafka
from streams.chain import PlacedRecord, consumed_headers
from streams.collector import collector_paused
from streams.kafka import WHOLE_LOG_READER
from streams.messages import M
from streams.reader import Received, TopicReader
from streams.record_check import RecordCheck
from streams.topics import CHAIN_HEADS, TOPIC_NAMED, TOPICS, Topic


@dataclass(frozen=True)
class TimeRange:
    """[start, end] in record time, both ends included."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("audit range ends need a time zone, e.g. 2024-03-04T02:00:00Z")
        if self.end < self.start:
            raise ValueError(f"audit range ends before it starts: {self.start} > {self.end}")

    def holds(self, timestamp_ms: int) -> bool:
        return self.start.timestamp() * 1000 <= timestamp_ms <= self.end.timestamp() * 1000

    def __str__(self) -> str:
        return f"{self.start.isoformat()} .. {self.end.isoformat()}"


@dataclass(frozen=True)
class LoggedRecord:
    """One Kafka record as an auditor needs it; `topic` is without the site's prefix,
    `kafka_topic` the full name it was read from (which its link hash covers)."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]
    kafka_topic: str

    @property
    def where(self) -> str:
        return f"{self.topic}/{self.partition}@{self.offset}"

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)

    def header_map(self) -> dict[str, bytes]:
        return dict(self.headers)

    def placed(self) -> PlacedRecord:
        """The record as Kafka kept it: what its chain link is checked against."""
        return PlacedRecord(
            self.kafka_topic, self.partition, self.timestamp_ms, self.key, self.value, self.headers
        )

    def to_json(self) -> dict[str, object]:
        # Base64 keeps key, value and headers byte-exact, which their hashes depend on.
        return {
            "topic": self.topic,
            "kafka_topic": self.kafka_topic,
            "partition": self.partition,
            "offset": self.offset,
            "timestamp_ms": self.timestamp_ms,
            "key": None if self.key is None else _b64(self.key),
            "value": _b64(self.value),
            "headers": [[name, _b64(value)] for name, value in self.headers],
        }

    @classmethod
    def of(cls, received: Received[Any]) -> LoggedRecord:
        record = received.record
        return cls(
            topic=received.topic.name,
            partition=record.partition,
            offset=record.offset,
            timestamp_ms=record.timestamp,
            key=record.key,
            value=record.value,
            headers=consumed_headers(record.headers),
            kafka_topic=record.topic,
        )

    @classmethod
    def from_json(cls, raw: dict) -> LoggedRecord:
        return cls(
            topic=raw["topic"],
            partition=int(raw["partition"]),
            offset=int(raw["offset"]),
            timestamp_ms=int(raw["timestamp_ms"]),
            key=None if raw["key"] is None else base64.b64decode(raw["key"]),
            value=base64.b64decode(raw["value"]),
            headers=tuple((name, base64.b64decode(value)) for name, value in raw["headers"]),
            kafka_topic=raw["kafka_topic"],
        )


@dataclass
class RecordedLog:
    """Records per topic in (partition, offset) order, and where each retained partition starts.

    `partial` marks a log that holds only part of the partitions by design (an export bundle),
    so chains may begin before its first record.
    """

    records: dict[str, list[LoggedRecord]] = field(default_factory=dict)
    partial: bool = False

    def topic(self, topic: Topic[Any]) -> list[LoggedRecord]:
        return self.records.get(topic.name, [])

    def in_range(self, topic: Topic[Any], window: TimeRange) -> list[LoggedRecord]:
        return [record for record in self.topic(topic) if window.holds(record.timestamp_ms)]

    def messages(
        self, topic: Topic[M], window: TimeRange | None = None
    ) -> list[tuple[LoggedRecord, M]]:
        """Each record of `topic` (in `window`, if given) that holds a valid message, with it.

        Records that hold none are left out: the chains show whether they were tampered with,
        and the correlator skips or dead-letters them as well.
        """
        records = self.topic(topic) if window is None else self.in_range(topic, window)
        messages = []
        for record in records:
            try:
                messages.append((record, topic.decode(record.value)))
            except ValidationError:
                continue
        return messages

    def passing(self, check: RecordCheck) -> RecordedLog:
        """The records that pass the consumers' check (chain, the writer role's signature,
        schema), as a log of their own: what an audit replays and reports, as the correlator
        and the console acted only on them. `verify` reports the others."""
        passed = []
        for record in self.all_records():
            try:
                check.placed_message(TOPIC_NAMED[record.topic], record.placed())
            except ValueError:
                continue
            passed.append(record)
        return RecordedLog.of(passed, self.partial)

    def all_records(self) -> list[LoggedRecord]:
        return [record for name in sorted(self.records) for record in self.records[name]]

    @property
    def size(self) -> int:
        return sum(len(records) for records in self.records.values())

    @classmethod
    def of(cls, records: Iterable[LoggedRecord], partial: bool = False) -> RecordedLog:
        log = cls(partial=partial)
        for record in sorted(records, key=lambda r: (r.topic, r.partition, r.offset)):
            log.records.setdefault(record.topic, []).append(record)
        return log


def read_log(kafka: Kafka, topics: Sequence[Topic[Any]] = TOPICS) -> RecordedLog:
    """Every record of `topics` published before this call, from each partition's start.

    Chain heads are read first, then the rest: a producer publishes a head only once Kafka
    acknowledged the records it names, so every record a head read here names was there to
    be read after it, even while producers are running.
    """
    passes = [[t for t in topics if t is CHAIN_HEADS], [t for t in topics if t is not CHAIN_HEADS]]
    received: list[Received[Any]] = []
    with collector_paused():  # the whole log is kept: nothing read is garbage
        for wanted in (each for each in passes if each):
            reader = TopicReader(kafka, wanted, **WHOLE_LOG_READER).wait_for_partitions()
            try:
                received += reader.read_new()
            finally:
                reader.close()
        return RecordedLog.of(LoggedRecord.of(each) for each in received)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
