"""What the correlator reads besides its share of access events: whole topics, read through
however long their history, and the dead letters it already sent.

A read ends once every partition has been read up to the end offset the broker gives as it
begins and to its latest fetch's high-water mark (`streams.reader.unread`: either alone can
fall short).

A read has no total timeout (weeks of retention take as long as they take); it fails only when
no record came for `STALL_SECONDS` while the topics were not read to those ends, and it logs
its progress every `PROGRESS_SECONDS`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kafka import TopicPartition
from kafka.errors import KafkaError

from streams.dead_letter import DeadLetter
from streams.reader import Received, TopicReader, unread

log = logging.getLogger(__name__)

STALL_SECONDS = 120.0
PROGRESS_SECONDS = 10.0
POLL_MS = 40


def read_through(reader: TopicReader, what: str) -> Iterator[list[Received[Any]]]:
    """Every record published before the call, and maybe a few more, a poll's records at a
    time (in partition order), so that a batch's signatures can be verified together."""
    started = last_record = last_log = time.monotonic()
    ends = end_offsets(reader, what)
    behind = unread(reader.consumer, ends)
    count = 0
    while behind:
        batch = reader.poll(timeout_ms=POLL_MS)
        now = time.monotonic()
        if batch:
            last_record = now
            count += len(batch)
            yield batch
            behind = unread(reader.consumer, {p: ends[p] for p in behind})
        elif now - last_record > STALL_SECONDS:
            raise TimeoutError(f"{what}: no record for {STALL_SECONDS:g} s, not up to date")
        if now - last_log >= PROGRESS_SECONDS:
            log.info("%s: %d records read in %.0f s", what, count, now - started)
            last_log = now
    if (took := time.monotonic() - started) >= PROGRESS_SECONDS:
        log.info("%s: read %d records in %.0f s, up to date", what, count, took)


def end_offsets(reader: TopicReader, what: str) -> dict[TopicPartition, int]:
    """The partitions' end offsets as the broker gives them now, asked again while it does not
    answer (a broker restarting), up to `STALL_SECONDS`."""
    started = time.monotonic()
    while True:
        try:
            return reader.consumer.end_offsets(reader.partitions)
        except KafkaError as error:
            if time.monotonic() - started > STALL_SECONDS:
                raise TimeoutError(f"{what}: no end offsets for {STALL_SECONDS:g} s") from error
            log.warning("%s: end offsets not given (%s), asking again", what, error)
            time.sleep(1.0)


@dataclass
class DeadLetters:
    """The correlator's dead letters: those on the topic already (by id, so a record rejected
    again after a crash or a restart is not dead-lettered twice), and the rejects of records
    every instance reads (terminal, alerts), each waiting for the one instance that sends it:
    the owner of the access partition numbered like the record's partition."""

    source: str
    sent: set[str] = field(default_factory=set)
    waiting: dict[str, tuple[int, DeadLetter]] = field(default_factory=dict)

    def seen(self, letter: DeadLetter) -> None:
        if letter.source == self.source:
            self.sent.add(letter.event_id)
            self.waiting.pop(letter.event_id, None)

    def wait(self, partition: int, letter: DeadLetter) -> None:
        if letter.event_id not in self.sent:
            self.waiting[letter.event_id] = (partition, letter)

    def due(self, rejects: list[DeadLetter], sends: Callable[[int], bool]) -> list[DeadLetter]:
        """What to send now: `rejects` of this instance's access events and the waiting
        rejects whose partition `sends` says is this instance's, none already on the topic."""
        letters = {
            letter.event_id: letter for letter in rejects if letter.event_id not in self.sent
        }
        for partition, letter in self.waiting.values():
            if sends(partition):
                letters.setdefault(letter.event_id, letter)
        return list(letters.values())

    def sent_now(self, letters: list[DeadLetter]) -> None:
        for letter in letters:
            self.seen(letter)
