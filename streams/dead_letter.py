"""Dead letters: input a feed adapter or the correlator could not use, with why and the raw text."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from streams.messages import Message


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
