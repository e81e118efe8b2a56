"""What the correlator reads besides its share of access events: whole topics, read through
however long their history, and the dead letters it already sent.

A read has no total timeout (weeks of retention take as long as they take); it fails only when
no record came for `STALL_SECONDS` while the topics were not read to their end, and it logs its
progress every `PROGRESS_SECONDS`. "Read to the end" is judged by high-water marks no older
than the read: only once every broker answered a fetch sent after the read began (a busy
machine can take longer than any fixed wait to bring one back).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from config.kafka import Kafka
from streams.alerts import Alert
from streams.dead_letter import DeadLetter
from streams.reader import FRESH_FETCH_S, Received, TopicReader
from streams.record_check import RecordCheck
from streams.topics import ALERTS

log = logging.getLogger(__name__)

STALL_SECONDS = 120.0
PROGRESS_SECONDS = 10.0
POLL_MS = 40
# A broker whose last answer is older than this no longer leads any partition read.
FORMER_BROKER_S = 30.0


class AnsweredFetches:
    """When the latest fetch each broker answered was sent (time.monotonic()): a high-water
    mark is as fresh as the fetch that brought it, and kafka-python keeps no record of that."""

    def __init__(self, reader: TopicReader) -> None:
        self.sent_at: dict[int, float] = {}
        fetcher = reader.consumer._fetcher
        handle = fetcher._handle_fetch_response  # looked up at every send, so this one is used

        def answered(node_id: int, fetch_offsets: Any, send_time: float, response: Any) -> None:
            handle(node_id, fetch_offsets, send_time, response)
            self.sent_at[node_id] = max(send_time, self.sent_at.get(node_id, send_time))

        fetcher._handle_fetch_response = answered

    def since(self, moment: float) -> bool:
        """Whether every broker still answering answered a fetch sent after `moment`."""
        recent = [sent for sent in self.sent_at.values() if sent >= moment - FORMER_BROKER_S]
        return bool(recent) and min(recent) >= moment


_ANSWERED: WeakKeyDictionary[TopicReader, AnsweredFetches] = WeakKeyDictionary()


def read_through(reader: TopicReader, what: str) -> Iterator[Received[Any]]:
    """Every record published before the call, and maybe a few more, one at a time."""
    answered = _ANSWERED.get(reader) or _ANSWERED.setdefault(reader, AnsweredFetches(reader))
    started = last_record = last_log = time.monotonic()
    count = 0
    while True:
        batch = reader.poll(timeout_ms=POLL_MS)
        now = time.monotonic()
        if batch:
            last_record = now
            count += len(batch)
            yield from batch
        elif now - started >= FRESH_FETCH_S and answered.since(started) and reader.caught_up():
            if now - started >= PROGRESS_SECONDS:
                log.info("%s: read %d records in %.0f s, up to date", what, count, now - started)
            return
        elif now - last_record > STALL_SECONDS:
            raise TimeoutError(f"{what}: no record for {STALL_SECONDS:g} s, not up to date")
        if now - last_log >= PROGRESS_SECONDS:
            log.info("%s: %d records read in %.0f s", what, count, now - started)
            last_log = now


def latest_revisions(
    kafka: Kafka, check: RecordCheck, wanted: Callable[[Alert], bool]
) -> list[Alert]:
    """The latest published revision of every alert `wanted` picks, from the whole alerts topic."""
    reader = TopicReader(kafka, [ALERTS], check).wait_for_partitions()
    latest: dict[str, Alert] = {}
    try:
        for received in read_through(reader, "alerts to rebuild episodes from"):
            try:
                alert = received.message()
            except ValueError:
                continue  # the correlator's own reader dead-letters it
            known = latest.get(alert.alert_id)
            if wanted(alert) and (known is None or alert.revision > known.revision):
                latest[alert.alert_id] = alert
    finally:
        reader.close()
    return list(latest.values())


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
