"""The normalised container event every terminal feed adapter produces, or a reject saying why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import Field, ValidationError

from streams.messages import Message


class ContainerActivity(StrEnum):
    """What happened to the container, in the terminal's words (DCSA code in the comment)."""

    loaded = "loaded"  # LOAD onto a vessel: it leaves the yard
    discharged = "discharged"  # DISC from a vessel, COARRI BGM 119
    gated_in = "gated_in"  # GTIN
    gated_out = "gated_out"  # GTOT: it leaves the terminal
    stuffed = "stuffed"  # STUF
    stripped = "stripped"  # STRP
    picked_up = "picked_up"  # PICK
    dropped_off = "dropped_off"  # DROP
    seal_inspected = "seal_inspected"  # INSP
    seal_removed = "seal_removed"  # RMVD: the inspection opens the container
    resealed = "resealed"  # RSEA: the inspection is over
    selected_for_scan = "selected_for_scan"  # CUSS (DCSA 3)
    selected_for_inspection = "selected_for_inspection"  # CUSI (DCSA 3)
    released = "released"  # CUSR (DCSA 3): customs released it


class Classifier(StrEnum):
    """ACT changes a container's state; PLN and EST are kept on the topic for information only."""

    actual = "actual"
    planned = "planned"
    estimated = "estimated"


class FeedSource(StrEnum):
    """The feed and version a container event was read from."""

    dcsa_v2 = "dcsa-2.2"
    dcsa_v3 = "dcsa-3"
    coarri = "coarri"


class ContainerEvent(Message):
    """One thing that happened to one container; the key on `terminal` is `container_number`.

    `event_time` is when it happened; `recorded_at` is when the source system recorded it, its
    own claim, kept for information; `ingested_at` is when quaywatch took it in, stamped once by
    the feed adapter that published it. The correlator counts a fact as known from the later
    of `event_time` and `ingested_at`: a batch the source sends hours late, with recorded_at
    hours earlier, was not known before it arrived, and every run (live, restarted, replayed)
    reads the same moment from the record.
    """

    SCHEMA_NAME: ClassVar[str] = "container-event"
    SCHEMA_VERSION: ClassVar[int] = 2

    container_number: str = Field(
        pattern=r"^[A-Z]{3}[UJZR][0-9]{7}$", description="ISO 6346, check digit verified"
    )
    activity: ContainerActivity = Field(description="What happened")
    classifier: Classifier = Field(description="actual, planned or estimated")
    recorded_at: datetime = Field(description="When the source system recorded it (UTC)")
    ingested_at: datetime | None = Field(
        default=None,
        description=(
            "When quaywatch ingested it (UTC), stamped once by the feed adapter that published "
            "it; the correlator counts the fact as known from then"
        ),
    )
    source: FeedSource = Field(description="Which feed it came from")
    source_event_id: str = Field(description="Id of the event in the source feed")
    yard_position: str | None = Field(default=None, description="Position as the feed gives it")
    yard_block: str | None = Field(
        default=None, description="Yard block of the position, by the site's yard areas"
    )
    iso_equipment_code: str | None = Field(default=None, description="Size-type, e.g. 45G1")
    empty: bool | None = Field(default=None, description="True empty, False laden")
    facility_code: str | None = Field(default=None, description="SMDG terminal code")
    vessel_voyage: str | None = Field(default=None, description="Voyage of the transport call")

    @property
    def known_from(self) -> datetime:
        """When quaywatch learnt of it: its ingestion; for an event no adapter stamped (one
        built by hand, e.g. in a test) the source's recording stands in."""
        return self.ingested_at or self.recorded_at

    def ingested(self, at: datetime) -> ContainerEvent:
        """The event as ingested at `at`; one already stamped keeps its first stamp."""
        if self.ingested_at is not None:
            return self
        return self.model_copy(update={"ingested_at": at})


@dataclass(frozen=True)
class Rejected:
    """An input item an adapter could not turn into a container event; it goes to dead-letter."""

    reason: str
    raw: str
    location: str = ""


FeedItem = ContainerEvent | Rejected


class FeedError(ValueError):
    """Something in a feed item that cannot become a container event; the text is the reason."""


def judge(
    build: Callable[[], ContainerEvent], raw: str, location: str, prefix: str = ""
) -> FeedItem:
    """Judge one feed item: the container event `build` makes of it, or a Rejected saying why not.

    `build` raises FeedError for what the adapter refuses and pydantic's ValidationError for a
    value the message model refuses (an odd code, say); anything else is a bug and propagates.
    """
    try:
        return build()
    except FeedError as error:
        return Rejected(f"{prefix}{error}", raw, location)
    except ValidationError as error:
        reason = f"not a valid container event: {error.errors()[0]['msg']}"
        return Rejected(prefix + reason, raw, location)
