"""The container table checkpointed on `correlator-checkpoints`: a restart after weeks of
terminal news loads the latest checkpoint and reads only the terminal records after it.

Like the changelog topic behind a Kafka Streams state store, but whole: a checkpoint is the
table's facts (every container still remembered, see `forget_departed_days`) with the terminal
offsets they reflect, cut into parts that each fit a record. Every part is chained and signed by
the correlator role, so a restart trusts a checkpoint exactly as far as it trusts the terminal
records themselves: parts that fail the record check are ignored, and a checkpoint missing a
part is never used. Without a usable one the terminal topic is read from its beginning.

A checkpoint is a deterministic function of the terminal records before its offsets (the
table is the same whichever instance reads them), so any instance may write it; the owner of
access partition 0 does, now and then (`CheckpointSchedule`).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime

from kafka import TopicPartition

from config.kafka import Kafka
from streams.chain import ChainedProducer
from streams.correlator.table import ContainerFact, ContainerTable
from streams.reader import TopicReader
from streams.record_check import RecordCheck, RecordRejected
from streams.table_checkpoint import FACTS_PER_PART, Fact, TableCheckpoint
from streams.topics import CHECKPOINTS

log = logging.getLogger(__name__)

# How many records back from a partition's end the latest checkpoint is looked for first.
LOOK_BACK = 256


def parts_of(table: ContainerTable, terminal_offsets: Mapping[int, int]) -> list[TableCheckpoint]:
    checkpoint_id = str(uuid.uuid4())
    groups: list[dict[str, list[Fact]]] = [{}]
    facts_in_group = 0
    for number, history in table.histories():
        if facts_in_group >= FACTS_PER_PART:
            groups.append({})
            facts_in_group = 0
        groups[-1][number] = [fact[:6] for fact in history]
        facts_in_group += len(history)
    offsets = {str(partition): offset for partition, offset in sorted(terminal_offsets.items())}
    as_of = datetime.fromtimestamp(max(table.latest_visible_at, 0.0), UTC)
    return [
        TableCheckpoint.create(
            event_id=f"{checkpoint_id}:{part}",
            event_time=as_of,
            checkpoint_id=checkpoint_id,
            part=part,
            parts=len(groups),
            terminal_offsets=offsets,
            latest_visible_at=table.latest_visible_at,
            containers=containers,
        )
        for part, containers in enumerate(groups)
    ]


def write_checkpoint(
    producer: ChainedProducer, table: ContainerTable, terminal_offsets: Mapping[int, int]
) -> int:
    """Send a checkpoint of `table` and return once the broker acknowledged all of it."""
    parts = parts_of(table, terminal_offsets)
    futures = [producer.send(CHECKPOINTS, part.stamped()) for part in parts]
    producer.flush()
    for future in futures:
        future.get(timeout=60)
    log.info(
        "checkpointed %d containers in %d parts at terminal offsets %s",
        len(table),
        len(parts),
        dict(terminal_offsets),
    )
    return len(parts)


def restore(table: ContainerTable, parts: list[TableCheckpoint]) -> None:
    facts = [
        ContainerFact(*fact, number)
        for part in parts
        for number, history in part.containers.items()
        for fact in history
    ]
    table.restore(facts, parts[0].latest_visible_at)


def latest_checkpoint(kafka: Kafka, check: RecordCheck) -> list[TableCheckpoint] | None:
    """The parts of the newest complete checkpoint that passes the record check, or None."""
    reader = TopicReader(kafka, [CHECKPOINTS], check).wait_for_partitions()
    try:
        consumer = reader.consumer
        ends = consumer.end_offsets(reader.partitions)
        starts = consumer.beginning_offsets(reader.partitions)
        found: list[list[TableCheckpoint]] = []
        for partition in reader.partitions:
            complete = _latest_in(reader, partition, starts[partition], ends[partition])
            if complete is not None:
                found.append(complete)
    finally:
        reader.close()
    if not found:
        return None
    return max(found, key=lambda parts: parts[0].latest_visible_at)


def _latest_in(
    reader: TopicReader, partition: TopicPartition, start: int, end: int
) -> list[TableCheckpoint] | None:
    """The newest complete checkpoint in the partition: its last records first, then further
    back, doubling, as long as none is complete."""
    look_back = LOOK_BACK
    while True:
        first = max(start, end - look_back)
        complete = _complete_checkpoints(_read(reader, partition, first, end))
        if complete or first == start:
            return complete[-1] if complete else None
        look_back *= 2


def _read(
    reader: TopicReader, partition: TopicPartition, first: int, end: int
) -> Iterator[TableCheckpoint]:
    consumer = reader.consumer
    consumer.assign([partition])
    consumer.seek(partition, first)
    position, idle_since = first, time.monotonic()
    while position < end:
        batch = consumer.poll(timeout_ms=200).get(partition, [])
        if not batch and time.monotonic() - idle_since > 60:
            raise TimeoutError(f"{partition.topic}/{partition.partition}: no record for 60 s")
        for record in batch:
            idle_since, position = time.monotonic(), record.offset + 1
            try:
                yield reader.check.message(reader.topics[partition.topic], record)
            except RecordRejected as rejected:
                where = f"{record.topic}/{record.partition}@{record.offset}"
                log.warning("checkpoint part at %s ignored: %s", where, rejected)


def _complete_checkpoints(parts: Iterator[TableCheckpoint]) -> list[list[TableCheckpoint]]:
    """Checkpoints all of whose parts are there, oldest first (by their last part's place)."""
    by_id: dict[str, dict[int, TableCheckpoint]] = {}
    complete: list[list[TableCheckpoint]] = []
    for part in parts:
        known = by_id.setdefault(part.checkpoint_id, {})
        same = not known or _agree(next(iter(known.values())), part)
        if not same:
            continue  # a part that contradicts its siblings is no part of theirs
        known[part.part] = part
        if len(known) == part.parts and set(known) == set(range(part.parts)):
            complete.append([known[n] for n in range(part.parts)])
    return complete


def _agree(one: TableCheckpoint, other: TableCheckpoint) -> bool:
    return (one.parts, one.terminal_offsets, one.latest_visible_at) == (
        other.parts,
        other.terminal_offsets,
        other.latest_visible_at,
    )


class CheckpointSchedule:
    """When the next checkpoint is due: after `every_records` terminal records learnt, or
    `every_seconds` after the last one with anything learnt since. A restart reads about that
    much of the terminal topic again."""

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
