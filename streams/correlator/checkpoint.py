"""The correlator's state checkpointed on `correlator-checkpoints`: a restart after weeks of
history loads the latest checkpoint and reads only the records after it.

Like the changelog topic behind a Kafka Streams state store, but whole: a checkpoint holds
what the correlator learnt from the topics every instance reads whole (`KNOWLEDGE`), with the
offsets it reflects:
- the container table: the facts of every container still remembered (`forget_departed_days`);
- the latest revision of every recent alert (`rebuild_hours`), which the episodes of an access
  partition are rebuilt from, and the ids of the settled ones;
- the ids of the dead letters it already sent.
It is cut into parts that each fit a record. Every part is chained and signed by the
correlator role, so a restart trusts a checkpoint exactly as far as it trusts the records
themselves: parts that fail the record check are ignored, and a checkpoint missing a part is
never used. Without a usable one the topics are read from their beginning.

Access events and the episodes they make are not in it: access offsets are committed in the
consumer group, and never past an access event the alerts topic does not reflect yet.

The owner of access partition 0 writes the checkpoints (`CheckpointSchedule`); not while a
rejected record waits for its dead letter, which a restart from the checkpoint would not see.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from kafka import TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from config.kafka import Kafka
from streams.alerts import Alert
from streams.chain import ChainedProducer
from streams.correlator.engine import CorrelationEngine
from streams.correlator.knowledge import DeadLetters
from streams.correlator.table import ContainerFact
from streams.correlator_checkpoint import CorrelatorCheckpoint, Fact
from streams.reader import TopicReader
from streams.record_check import RecordCheck, RecordRejected
from streams.terminal.events import ContainerActivity
from streams.topics import CHECKPOINTS

log = logging.getLogger(__name__)

PART_BYTES = 512 * 1024  # about this much JSON a part: well under a record's size limit
FACT_BYTES, SETTLED_BYTES = 120, 70  # what a fact and a settled alert take, about
# How many records back from a partition's end the latest checkpoint is looked for first.
LOOK_BACK = 256
# A checkpoint is tens of megabytes: fetched a few parts at a time, not kafka-python's 50 MB,
# so what a restart holds at its peak is its state, not its reading.
PART_AT_A_TIME: dict[str, object] = {
    "max_partition_fetch_bytes": 4 * PART_BYTES,
    "fetch_max_bytes": 4 * PART_BYTES,
}
Offsets = Mapping[str, Mapping[int, int]]  # topic name -> partition -> offset


@dataclass
class _Part:
    containers: dict[str, list[Fact]] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)
    settled: dict[str, tuple[int, float]] = field(default_factory=dict)
    size: int = 0


def parts_of(
    engine: CorrelationEngine, dead_letters: DeadLetters, offsets: Offsets
) -> list[CorrelatorCheckpoint]:
    parts = [_Part()]

    def room(size: int) -> _Part:
        if parts[-1].size + size > PART_BYTES and parts[-1].size:
            parts.append(_Part())
        parts[-1].size += size
        return parts[-1]

    for number, history in engine.table.histories():
        room(FACT_BYTES * len(history)).containers[number] = [fact[:6] for fact in history]
    for alert in engine.recent.latest.values():
        room(len(alert.to_bytes())).alerts.append(alert)
    for alert_id, settled in engine.settled.entries().items():
        room(SETTLED_BYTES).settled[alert_id] = settled
    checkpoint_id = str(uuid.uuid4())
    latest = engine.table.latest_visible_at
    written = {
        topic: {str(number): offset for number, offset in sorted(by_partition.items())}
        for topic, by_partition in sorted(offsets.items())
    }
    return [
        CorrelatorCheckpoint.create(
            event_id=f"{checkpoint_id}:{number}",
            event_time=datetime.fromtimestamp(max(latest, 0.0), UTC),
            checkpoint_id=checkpoint_id,
            part=number,
            parts=len(parts),
            offsets=written,
            latest_visible_at=latest,
            containers=part.containers,
            alerts=part.alerts,
            settled=part.settled,
            dead_letters_sent=sorted(dead_letters.sent) if number == 0 else [],
        )
        for number, part in enumerate(parts)
    ]


def write_checkpoint(
    producer: ChainedProducer,
    engine: CorrelationEngine,
    dead_letters: DeadLetters,
    offsets: Offsets,
) -> int:
    """Send a checkpoint and return once the broker acknowledged all of it."""
    parts = parts_of(engine, dead_letters, offsets)
    futures = [producer.send(CHECKPOINTS, part.stamped()) for part in parts]
    producer.flush()
    for future in futures:
        future.get(timeout=60)
    log.info(
        "checkpointed %d containers and %d recent alerts in %d parts at offsets %s",
        len(engine.table),
        len(engine.recent),
        len(parts),
        parts[0].offsets,
    )
    return len(parts)


@dataclass
class Loaded:
    """A checkpoint every part of which passed the record check, as the state it restores."""

    checkpoint_id: str
    offsets: dict[str, dict[str, int]]
    latest_visible_at: float
    facts: list[ContainerFact] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    settled: dict[str, tuple[int, float]] = field(default_factory=dict)
    dead_letters_sent: list[str] = field(default_factory=list)

    def take(self, part: CorrelatorCheckpoint) -> None:
        for number, history in part.containers.items():
            self.facts.extend(_fact(number, *fact) for fact in history)
        self.alerts += part.alerts
        self.settled.update(part.settled)
        self.dead_letters_sent += part.dead_letters_sent

    def restore(self, engine: CorrelationEngine, dead_letters: DeadLetters) -> None:
        engine.table.restore(self.facts, self.latest_visible_at)
        engine.restore_published(self.alerts, self.settled)
        dead_letters.sent.update(self.dead_letters_sent)


def _fact(
    number: str,
    event_time: float,
    visible_at: float,
    event_id: str,
    activity: ContainerActivity,
    yard_block: str | None,
    yard_position: str | None,
) -> ContainerFact:
    """A fact as the table keeps it: times shared when equal and block names interned, as a
    table that read the events itself holds them (a fact is most of the table's memory)."""
    visible_at = event_time if visible_at == event_time else visible_at
    block = None if yard_block is None else sys.intern(yard_block)
    return ContainerFact(event_time, visible_at, event_id, activity, block, yard_position, number)


def restore(
    engine: CorrelationEngine, dead_letters: DeadLetters, parts: list[CorrelatorCheckpoint]
) -> None:
    """Restore the state the parts of one checkpoint hold (already checked)."""
    loaded = Loaded(parts[0].checkpoint_id, parts[0].offsets, parts[0].latest_visible_at)
    for part in parts:
        loaded.take(part)
    loaded.restore(engine, dead_letters)


@dataclass(frozen=True)
class Claim:
    """What a record on the checkpoints topic says it is, before it is checked."""

    checkpoint_id: str
    part: int
    parts: int
    offsets: str  # as JSON, to compare
    latest_visible_at: float
    partition: TopicPartition
    offset: int

    @classmethod
    def of(cls, partition: TopicPartition, offset: int, value: bytes) -> Claim | None:
        try:
            body = json.loads(value)
            return cls(
                str(body["checkpoint_id"]),
                int(body["part"]),
                int(body["parts"]),
                json.dumps(body["offsets"], sort_keys=True),
                float(body["latest_visible_at"]),
                partition,
                offset,
            )
        except (ValueError, TypeError, KeyError):
            return None  # not even a claim: nothing to load

    def agrees(self, other: Claim) -> bool:
        mine = (self.checkpoint_id, self.parts, self.offsets, self.latest_visible_at)
        return mine == (other.checkpoint_id, other.parts, other.offsets, other.latest_visible_at)


def complete_checkpoints(claims: Iterable[Claim]) -> list[list[Claim]]:
    """The checkpoints all of whose parts are claimed, in the order their last part came; a
    part that contradicts its siblings is no part of theirs."""
    by_id: dict[str, dict[int, Claim]] = {}
    complete: list[list[Claim]] = []
    for claim in claims:
        known = by_id.setdefault(claim.checkpoint_id, {})
        if known and not claim.agrees(next(iter(known.values()))):
            continue
        known.setdefault(claim.part, claim)
        if len(known) == claim.parts and set(known) == set(range(claim.parts)):
            complete.append([known[n] for n in range(claim.parts)])
    return complete


def load_latest(kafka: Kafka, check: RecordCheck) -> Loaded | None:
    """The newest complete checkpoint whose every part passes the record check, or None.

    Records are looked at first for what they claim (their last `LOOK_BACK` per partition,
    then further back), and only the parts of the newest complete checkpoint are checked and
    parsed, one at a time: a checkpoint is tens of megabytes."""
    reader = TopicReader(kafka, [CHECKPOINTS], check, **PART_AT_A_TIME).wait_for_partitions()
    try:
        starts = reader.consumer.beginning_offsets(reader.partitions)
        ends = _high_waters(reader, starts)
        candidates = [
            checkpoint
            for partition in reader.partitions
            for checkpoint in _claimed(reader, partition, starts[partition], ends[partition])
        ]
        candidates.sort(key=lambda claims: (claims[0].latest_visible_at, claims[-1].offset))
        for claims in reversed(candidates):
            loaded = _checked(reader, claims)
            if loaded is not None:
                return loaded
    finally:
        reader.close()
    return None


def _high_waters(
    reader: TopicReader, starts: dict[TopicPartition, int]
) -> dict[TopicPartition, int]:
    """Each partition's high-water mark as a fetch of its last record batch answers it. The
    embedded broker's end offset stops at that batch's first record, short of the batch's
    last parts (streams.reader.unread); it only says where to fetch from."""
    consumer = reader.consumer
    hints = consumer.end_offsets(reader.partitions)
    consumer.assign(reader.partitions)
    for partition in reader.partitions:
        consumer.seek(partition, max(starts[partition], hints[partition] - 1))
    deadline = time.monotonic() + 60
    while any(consumer.highwater(partition) is None for partition in reader.partitions):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{CHECKPOINTS.name}: no fetch answered in 60 s")
        consumer.poll(timeout_ms=200)
    return {partition: consumer.highwater(partition) or 0 for partition in reader.partitions}


def _claimed(
    reader: TopicReader, partition: TopicPartition, start: int, end: int
) -> list[list[Claim]]:
    """The complete checkpoints claimed in the partition's last records: further back,
    doubling, as long as none is complete."""
    look_back = LOOK_BACK
    while True:
        first = max(start, end - look_back)
        records = _records(reader, partition, first, end)
        complete = complete_checkpoints(
            claim
            for record in records
            if (claim := Claim.of(partition, record.offset, record.value)) is not None
        )
        if complete or first == start:
            return complete
        look_back *= 2


def _checked(reader: TopicReader, claims: list[Claim]) -> Loaded | None:
    """The claimed checkpoint, if every part passes the record check (the claims were read off
    the same bytes, so they hold once the signature over them does)."""
    first = claims[0]
    loaded = Loaded(first.checkpoint_id, json.loads(first.offsets), first.latest_visible_at)
    wanted = {claim.offset: claim for claim in claims}
    records = _records(reader, first.partition, min(wanted), max(wanted) + 1)
    topic = reader.topics[first.partition.topic]
    for record in records:
        claim = wanted.get(record.offset)
        if claim is None:
            continue
        where = f"{record.topic}/{record.partition}@{record.offset}"
        try:
            part = reader.check.message(topic, record)
        except RecordRejected as rejected:
            log.warning("checkpoint part at %s ignored: %s", where, rejected)
            return None
        loaded.take(part)
    return loaded


def _records(
    reader: TopicReader, partition: TopicPartition, first: int, end: int
) -> Iterator[ConsumerRecord]:
    consumer = reader.consumer
    consumer.assign([partition])
    consumer.seek(partition, first)
    position, idle_since = first, time.monotonic()
    while position < end:
        batch = consumer.poll(timeout_ms=200).get(partition, [])
        if not batch and time.monotonic() - idle_since > 60:
            raise TimeoutError(f"{partition.topic}/{partition.partition}: no record for 60 s")
        for record in batch:
            if record.offset >= end:
                return
            idle_since, position = time.monotonic(), record.offset + 1
            yield record


class CheckpointSchedule:
    """When the next checkpoint is due: after `every_records` records learnt from the knowledge
    topics, or `every_seconds` after the last one with anything learnt since. A restart reads
    about that much of them again."""

    def __init__(
        self, every_records: int, every_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.every_records, self.every_seconds = every_records, every_seconds
        self.clock = clock
        self.learnt = 0
        self.last = clock()

    def count(self, records: int) -> None:
        self.learnt += records

    def due(self) -> bool:
        if self.learnt >= self.every_records:
            return True
        return self.learnt > 0 and self.clock() - self.last >= self.every_seconds

    def done(self) -> None:
        self.learnt, self.last = 0, self.clock()
