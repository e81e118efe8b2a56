"""Terminal and customs feeds: formats, the facility, yard positions to yard blocks."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from config.base import Identifier, NonEmptyText, Port, Strict


class FeedFormat(StrEnum):
    """A terminal or customs feed format."""

    dcsa = "dcsa"
    coarri = "coarri"


class YardArea(Strict):
    """Yard positions (a pattern) that lie in one yard block."""

    pattern: NonEmptyText = Field(
        title="Position pattern",
        description="Shell pattern over yard positions, e.g. 'Q3*' for positions in block Q3",
    )
    yard_block: Identifier = Field(title="Yard block", description="Block these positions are in")


class TerminalFeeds(Strict):
    """How container events from the terminal and customs are read."""

    facility_code: str = Field(
        default="",
        max_length=20,
        title="Facility",
        description="SMDG facility code of this terminal; when set, DCSA events of other "
        "facilities, or that name none, are rejected to dead-letter",
    )
    yard_areas: list[YardArea] = Field(
        default_factory=list,
        title="Yard areas",
        description="Yard position patterns to yard blocks, first match wins",
    )
    callback_port: Port = Field(
        default=8481,
        title="Callback port",
        description="Port of the HTTP endpoint that takes DCSA event callbacks",
    )
