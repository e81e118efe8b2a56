"""Adapter output onto Kafka: container events to `terminal`, rejects to `dead-letter`."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from streams.chain import ChainedProducer
from streams.dead_letter import DeadLetter
from streams.messages import utc_now
from streams.terminal.events import ContainerEvent, FeedItem, Rejected
from streams.topics import DEAD_LETTER, TERMINAL


@dataclass(frozen=True)
class Published:
    container_events: int
    rejected: int


def dead_letter_for(rejected: Rejected, source: str) -> DeadLetter:
    # The id is a hash of the reject itself, so a feed sent twice gives the same dead letters.
    digest = hashlib.sha256(f"{source}\0{rejected.location}\0{rejected.raw}".encode()).hexdigest()
    return DeadLetter.create(
        event_id=f"dead-letter:{source}:{digest[:32]}",
        event_time=utc_now(),
        source=source,
        reason=rejected.reason,
        location=rejected.location,
        raw=rejected.raw,
    )


def publish_feed_items(
    producer: ChainedProducer, items: Iterable[FeedItem], source: str
) -> Published:
    """Send every item and wait until the broker has acknowledged all of them.

    A long-running feed passes the same producer every time, so its messages form one chain.
    """
    futures = []
    events = rejected = 0
    for item in items:
        if isinstance(item, ContainerEvent):
            futures.append(producer.send(TERMINAL, item.stamped()))
            events += 1
        else:
            futures.append(producer.send(DEAD_LETTER, dead_letter_for(item, source).stamped()))
            rejected += 1
    producer.flush()
    for future in futures:
        future.get(timeout=30)  # raises if the broker refused one
    return Published(container_events=events, rejected=rejected)
