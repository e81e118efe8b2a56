"""Dead letters: input a feed adapter or the correlator could not use, with why and the raw text."""

from __future__ import annotations

import hashlib
from typing import ClassVar, Self

from pydantic import Field

from streams.messages import Message, utc_now


class DeadLetter(Message):
    """One rejected item; keyed by `source` on `dead-letter` so a feed's rejects stay in order."""

    SCHEMA_NAME: ClassVar[str] = "dead-letter"
    SCHEMA_VERSION: ClassVar[int] = 1

    source: str = Field(min_length=1, description="Which feed or stage rejected it, e.g. dcsa")
    reason: str = Field(min_length=1, description="What was wrong, in words")
    location: str = Field(
        default="", description="Where in the input: item index, line, segment number"
    )
    raw: str = Field(description="The rejected input as received (text; bytes as latin-1)")

    @classmethod
    def for_record(cls, source: str, location: str, reason: str, value: bytes | None) -> Self:
        """The dead letter of a record read at `location` (topic/partition@offset).

        Its id derives from the source and the location, so rejecting the same record again
        (a restart, another instance) gives the same dead letter.
        """
        digest = hashlib.sha256(f"{source}:{location}".encode()).hexdigest()[:32]
        return cls.create(
            event_id=f"dead-letter:{source}:{digest}",
            event_time=utc_now(),
            source=source,
            reason=reason,
            location=location,
            raw=(value or b"").decode("utf-8", errors="replace"),
        ).stamped()
