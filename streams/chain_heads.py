"""Chain heads on `chain-heads`: where a producer's chains stand, signed, now and then.

A chain shows what was changed, inserted or reordered inside it, but not what was cut off its
end, nor a chain deleted whole. So every chained producer publishes, every so many records or
seconds and when it stops cleanly, a head naming for each of its chains the sequence number
and link hash of the last record Kafka acknowledged. The audit compares the newest head of
each chain with what the partition holds and names the missing stretch.

The head record is itself chained and signed like any other, on `chain-heads`, keyed by the
publishing producer's id; every writer role writes there, for its own chains.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from streams.messages import Message

if TYPE_CHECKING:  # streams.chain needs the topics, which need this module
    from streams.chain import ChainEnd

# A head after this many acknowledged records, or this many seconds after the first one not
# yet in a head: what a cut can take away unseen is at most this much.
HEAD_EVERY_RECORDS = 1000
HEAD_EVERY_SECONDS = 10.0


class ChainState(BaseModel):
    """Where one chain stands: its last acknowledged record."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    producer_id: str = Field(min_length=1, description="The producer id the chain runs under")
    topic: str = Field(min_length=1, description="Full topic name on the cluster")
    partition: int = Field(ge=0, description="Partition of the chain")
    sequence: int = Field(ge=0, description="Sequence number of its last acknowledged record")
    link_hash: str = Field(
        pattern="^[0-9a-f]{64}$", description="Link hash of that record (SHA-256, hex)"
    )
    count: int = Field(ge=1, description="Records of the chain Kafka acknowledged")


class ChainHead(Message):
    SCHEMA_NAME: ClassVar[str] = "chain-head"
    SCHEMA_VERSION: ClassVar[int] = 1

    producer_id: str = Field(
        min_length=1, description="The producer publishing the head (the Kafka key)"
    )
    chains: list[ChainState] = Field(
        min_length=1, description="Every chain of the producer, as it stands"
    )
    final: bool = Field(description="Published as the producer stopped cleanly")


class HeadBook:
    """The acknowledged ends of one producer's chains, and whether a head is due.

    Safe across threads: the producer's I/O thread reports acknowledgements, a publishing
    thread takes heads.
    """

    def __init__(
        self,
        every_records: int = HEAD_EVERY_RECORDS,
        every_seconds: float = HEAD_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if every_records < 1 or every_seconds <= 0:
            raise ValueError(
                f"chain heads every {every_records} records or {every_seconds} s: "
                "both must be positive"
            )
        self.every_records = every_records
        self.every_seconds = every_seconds
        self._clock = clock
        self.changed = threading.Condition()
        self._chains: dict[tuple[str, str, int], ChainState] = {}
        self._unpublished = 0
        self._first_unpublished_at: float | None = None

    def acknowledged(self, end: ChainEnd) -> None:
        """Kafka acknowledged the record that ends a chain at `end`."""
        producer_id, topic, partition = end.producer_id, end.topic, end.partition
        sequence, link_hash = end.sequence, end.link_hash
        with self.changed:
            place = (producer_id, topic, partition)
            known = self._chains.get(place)
            count = 1 if known is None else known.count + 1
            if known is None or sequence > known.sequence:
                self._chains[place] = ChainState(
                    producer_id=producer_id,
                    topic=topic,
                    partition=partition,
                    sequence=sequence,
                    link_hash=link_hash,
                    count=count,
                )
            else:
                self._chains[place] = known.model_copy(update={"count": count})
            self._unpublished += 1
            if self._first_unpublished_at is None:
                self._first_unpublished_at = self._clock()
            if self._unpublished >= self.every_records:
                self.changed.notify_all()

    def seconds_until_due(self) -> float | None:
        """0 when a head is due, None when there is nothing new to publish."""
        with self.changed:
            if not self._unpublished:
                return None
            if self._unpublished >= self.every_records:
                return 0.0
            waited = self._clock() - (self._first_unpublished_at or 0.0)
            return max(0.0, self.every_seconds - waited)

    def take(self, producer_id: str, final: bool = False) -> ChainHead | None:
        """The head of every chain, counted as published; None when there is nothing new."""
        with self.changed:
            if not self._unpublished and not final:
                return None
            if not self._chains:
                return None
            self._unpublished, self._first_unpublished_at = 0, None
            chains = sorted(
                self._chains.values(), key=lambda c: (c.topic, c.partition, c.producer_id)
            )
        now = time.time_ns()
        return ChainHead.create(
            event_id=f"{producer_id}:head:{now}",
            event_time=datetime.fromtimestamp(now / 1e9, UTC),
            producer_id=producer_id,
            chains=chains,
            final=final,
        )
