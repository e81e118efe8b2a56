"""Reading whole topics from their start and keeping up with them, without the offset calls
brokers get wrong: the one topic reader of the correlator, the console and the audit.

A reader is assigned every partition of its topics (no consumer group: every reader sees every
record, where a group would split them) and starts each at its beginning rather than at its
end, because some Kafka-protocol brokers answer ListOffsets (end_offsets, seek_to_end)
wrongly. The high-water mark that comes back with every fetch response is right on all of
them, so "caught up" means: every partition has had a fetch answered, the position has reached
its high-water mark, and a fetch sent after the catch-up began has had time to come back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError
from pydantic import ValidationError

from config.kafka import Kafka
from streams.dead_letter import DeadLetter
from streams.kafka import FETCH_MAX_WAIT_MS, consumer
from streams.messages import M
from streams.record_check import RecordCheck
from streams.topics import Topic

log = logging.getLogger(__name__)

FRESH_FETCH_S = 0.08

# How often a follower looks its topics' partitions up again: a topic created after it
# started, or partitions added to one, are picked up this late.
REFRESH_SECONDS = 5.0


@dataclass(frozen=True)
class Received(Generic[M]):
    """One record read, with the declaration of the topic it came from and the check its
    reader makes of records (none: a reader for reports, not for acting on records)."""

    topic: Topic[M]
    record: ConsumerRecord
    check: RecordCheck | None = None

    def message(self) -> M:
        """The message the record holds, once checked: RecordRejected (a ValueError) when the
        check fails, pydantic's ValidationError when an unchecked record holds no message."""
        if self.check is None:
            return self.topic.decode(self.record.value)
        return self.check.message(self.topic, self.record)

    @property
    def where(self) -> str:
        return f"{self.record.topic}/{self.record.partition}@{self.record.offset}"

    def dead_letter(self, source: str, reason: str) -> DeadLetter:
        """The dead letter that says `source` rejected this record, and why."""
        return DeadLetter.for_record(source, self.where, reason, self.record.value)


class TopicReader:
    """All partitions of some topics, assigned (no group), each read from its beginning.

    >>> reader = TopicReader(site.kafka, [ALERTS, TERMINAL]).wait_for_partitions()  # doctest: +SKIP
    >>> [received.message() for received in reader.read_new()]
    """

    def __init__(
        self,
        kafka: Kafka,
        topics: Sequence[Topic[Any]],
        check: RecordCheck | None = None,
        **consumer_settings: object,
    ):
        self.topics = {kafka.topic(topic): topic for topic in topics}
        self.check = check
        self.consumer = consumer(
            kafka, None, **{"fetch_max_wait_ms": FETCH_MAX_WAIT_MS, **consumer_settings}
        )
        self.partitions: list[TopicPartition] = []  # none until assign() finds them
        # Where partitions new to the reader start instead of their beginning.
        self.start_at: dict[TopicPartition, int] = {}

    def assign(self) -> list[Topic[Any]]:
        """Assign every partition the topics have now and return the topics that have none yet.

        A partition new to this reader is read from its beginning (or from `start_at`); one
        already assigned keeps its position.
        """
        wanted = [
            TopicPartition(name, number)
            for name in self.topics
            for number in sorted(self.consumer.partitions_for_topic(name) or ())
        ]
        if wanted != self.partitions:
            # assign() forgets positions, so the partitions already read keep theirs explicitly.
            kept = {tp: self.consumer.position(tp) for tp in self.partitions if tp in wanted}
            self.consumer.assign(wanted)
            for partition in wanted:
                if partition in kept:
                    self.consumer.seek(partition, kept[partition])
                elif partition in self.start_at:
                    self.consumer.seek(partition, self.start_at[partition])
                else:
                    self.consumer.seek_to_beginning(partition)
            self.partitions = wanted
        assigned = {partition.topic for partition in wanted}
        return [topic for name, topic in self.topics.items() if name not in assigned]

    def wait_for_partitions(self, timeout_s: float = 30.0) -> TopicReader:
        """Wait until every topic has partitions (a topic just created may have none yet)."""
        deadline = time.monotonic() + timeout_s
        while missing := self.assign():
            if time.monotonic() > deadline:
                self.close()
                names = ", ".join(name for name, topic in self.topics.items() if topic in missing)
                raise TimeoutError(f"topic {names} has no partitions after {timeout_s:g} s")
            time.sleep(0.2)
        return self

    def caught_up(self) -> bool:
        for partition in self.partitions:
            highwater = self.consumer.highwater(partition)
            if highwater is None or self.consumer.position(partition) < highwater:
                return False
        return True

    def read_new(self, timeout_s: float = 60.0) -> list[Received[Any]]:
        """Every record published before this call, in partition order, and maybe a few more."""
        received: list[Received[Any]] = []
        started = time.monotonic()
        while True:
            batch = self.consumer.poll(timeout_ms=FETCH_MAX_WAIT_MS * 2, max_records=10000)
            received += self._in_order(batch)
            waited = time.monotonic() - started
            if not batch and waited >= FRESH_FETCH_S and self.caught_up():
                return received
            if waited > timeout_s:
                raise TimeoutError(f"{len(self.partitions)} partitions not read up to date")

    def poll(self, timeout_ms: int) -> list[Received[Any]]:
        """The records one fetch brings, in partition order (none: nothing new in time)."""
        return self._in_order(self.consumer.poll(timeout_ms=timeout_ms))

    def close(self) -> None:
        self.consumer.close()

    def _in_order(
        self, batch: Mapping[TopicPartition, Sequence[ConsumerRecord]]
    ) -> list[Received[Any]]:
        return [
            Received(self.topics[partition.topic], record, self.check)
            for partition in self.partitions
            for record in batch.get(partition, ())
        ]


Handlers = Mapping[Topic[Any], Callable[[Any], object]]
# Told of each record a follower rejects, with why (e.g. to dead-letter it).
RejectHandler = Callable[[Received[Any], str], object]


class Follower:
    """Follows some topics on a background thread, from their beginning and then live, handing
    each message that passes `check` to its topic's handler, and each record that does not to
    `on_reject`; a broker that goes away is connected to again.

    Every record is handed over again after a reconnect, so the handlers must make replaying
    everything idempotent (the console's board does).
    """

    def __init__(
        self,
        kafka: Kafka,
        handlers: Handlers,
        name: str,
        check: RecordCheck,
        on_reject: RejectHandler | None = None,
        **consumer_settings: object,
    ):
        self._kafka = kafka
        self._handlers = handlers
        self._name = name
        self._check = check
        self._on_reject = on_reject
        self._consumer_settings = consumer_settings
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Follower:
        self._thread.start()
        return self

    def stop(self, timeout_seconds: float = 5.0) -> None:
        self._stopping.set()
        self._thread.join(timeout_seconds)

    def _run(self) -> None:
        while not self._stopping.is_set():
            reader: TopicReader | None = None
            try:
                reader = TopicReader(
                    self._kafka, list(self._handlers), self._check, **self._consumer_settings
                )
                self._follow(reader)
            except KafkaError as error:
                log.warning(
                    "%s: broker %s: %s; retrying",
                    self._name,
                    ",".join(self._kafka.bootstrap_servers),
                    error,
                )
                self._stopping.wait(2.0)
            finally:
                if reader is not None:
                    reader.close()

    def _follow(self, reader: TopicReader) -> None:
        next_refresh = 0.0
        waiting_for: list[Topic[Any]] = []
        while not self._stopping.is_set():
            if time.monotonic() >= next_refresh:
                missing = reader.assign()
                if missing and missing != waiting_for:
                    names = ", ".join(topic.name for topic in missing)
                    log.info("%s: waiting for topics %s", self._name, names)
                waiting_for = missing
                next_refresh = time.monotonic() + REFRESH_SECONDS
            if not reader.partitions:
                self._stopping.wait(0.5)
                continue
            for received in reader.poll(timeout_ms=500):
                self._hand_over(received)

    def _hand_over(self, received: Received[Any]) -> None:
        try:
            message = received.message()
        except (ValidationError, ValueError) as error:
            # One bad record must not stop the reader, nor change anything; it stays on the
            # topic for the audit.
            reason = str(error).splitlines()[0]
            log.warning("%s: %s rejected: %s", self._name, received.where, reason)
            if self._on_reject is not None:
                self._on_reject(received, reason)
            return
        try:
            self._handlers[received.topic](message)
        except ValueError as error:
            log.warning("%s: %s not applied: %s", self._name, received.where, error)


def unread(
    kafka_consumer: KafkaConsumer, ends: Mapping[TopicPartition, int]
) -> list[TopicPartition]:
    """The partitions of `ends` whose position has not reached both of two ends, because each
    alone can fall short:
    - the end offset the broker gave as the read began (`ends`, a ListOffsets answer). Every
      record published before then is below it on Kafka; the embedded broker answers the last
      record batch's first offset + 1 instead, so the rest of that batch lies beyond it;
    - the high-water mark of the partition's latest fetch. The fetch that brought a batch's
      first record knew the whole batch, so it covers that rest; but a fetch leaves out the
      partitions whose records the client still holds, so the mark alone can be older.
    """
    return [
        partition
        for partition, end in ends.items()
        if kafka_consumer.position(partition) < max(end, kafka_consumer.highwater(partition) or 0)
    ]


def lag(kafka_consumer: KafkaConsumer) -> dict[int, int]:
    """Records behind per assigned partition, from fetch high-water marks (unknown: left out)."""
    behind: dict[int, int] = {}
    for partition in kafka_consumer.assignment():
        highwater = kafka_consumer.highwater(partition)
        if highwater is not None:
            behind[partition.partition] = max(0, highwater - kafka_consumer.position(partition))
    return behind
