"""Adapter output onto Kafka: container events to `terminal`, rejects to `dead-letter`.

The dead letters of one input are capped: a feed of a million broken items must not bury the
topic (or the operator reading it), so past the cap one summary dead letter says how many
more were rejected and where the first of them were. Each raw text is capped too, so one
huge reject cannot exceed the broker's message size and fail the whole batch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from streams.chain import ChainedProducer
from streams.dead_letter import DeadLetter
from streams.messages import utc_now
from streams.terminal.events import ContainerEvent, FeedItem, Rejected
from streams.topics import DEAD_LETTER, TERMINAL

MAX_DEAD_LETTERS = 100  # per input; the rest are counted in one summary dead letter
MAX_RAW_CHARS = 64 * 1024  # Kafka's default message limit is 1 MB
SUMMARY_LOCATIONS = 10


@dataclass(frozen=True)
class Published:
    container_events: int
    rejected: int


def dead_letter_for(rejected: Rejected, source: str) -> DeadLetter:
    # The id is a hash of the reject itself, so a feed sent twice gives the same dead letters.
    digest = hashlib.sha256(f"{source}\0{rejected.location}\0{rejected.raw}".encode()).hexdigest()
    raw = rejected.raw
    if len(raw) > MAX_RAW_CHARS:
        raw = f"{raw[:MAX_RAW_CHARS]}... [{MAX_RAW_CHARS} of {len(rejected.raw)} characters kept]"
    return DeadLetter.create(
        event_id=f"dead-letter:{source}:{digest[:32]}",
        event_time=utc_now(),
        source=source,
        reason=rejected.reason,
        location=rejected.location,
        raw=raw,
    )


def over_the_cap(first: list[Rejected], count: int, limit: int) -> Rejected:
    """The one reject that stands for the `count` rejects of an input past its first `limit`;
    `first` are the first of them."""
    where = ", ".join(reject.location or "(no location)" for reject in first)
    more = ", ..." if count > len(first) else ""
    reason = (
        f"{count} more items of this input were rejected past the first {limit} dead "
        f"letters; the first of them at {where}{more}"
    )
    raw = "\n".join(f"{reject.location}: {reject.reason}" for reject in first)
    return Rejected(reason, raw, first[0].location)


def publish_feed_items(
    producer: ChainedProducer,
    items: Iterable[FeedItem],
    source: str,
    max_dead_letters: int = MAX_DEAD_LETTERS,
    clock: Callable[[], datetime] = utc_now,
) -> Published:
    """Send every item and wait until the broker has acknowledged all of them.

    Each container event is stamped here, once, with when quaywatch ingested it (`clock`):
    the moment the correlator counts it as known, whatever the source claims in recorded_at.
    A long-running feed passes the same producer every time, so its messages form one chain.
    """
    futures = []
    events = 0
    beyond: list[Rejected] = []  # the first rejects past the cap, named in the summary
    rejected = 0
    for item in items:
        if isinstance(item, ContainerEvent):
            now = clock()
            futures.append(producer.send(TERMINAL, item.ingested(now).stamped(now)))
            events += 1
            continue
        rejected += 1
        if rejected <= max_dead_letters:
            futures.append(producer.send(DEAD_LETTER, dead_letter_for(item, source).stamped()))
        elif len(beyond) < SUMMARY_LOCATIONS:
            beyond.append(item)
    if beyond:
        summary = over_the_cap(beyond, rejected - max_dead_letters, max_dead_letters)
        futures.append(producer.send(DEAD_LETTER, dead_letter_for(summary, source).stamped()))
    producer.flush()
    for future in futures:
        future.get(timeout=30)  # raises if the broker refused one
    return Published(container_events=events, rejected=rejected)
