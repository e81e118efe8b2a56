"""Alerts: an access event joined with the containers around it, ranked, revised as news arrives."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from detectors.events import AccessRule
from streams.messages import Message


class Severity(StrEnum):
    """Alarm priority; `suppressed` is presence that is expected, kept for the audit trail."""

    critical = "critical"
    high = "high"
    medium = "medium"
    suppressed = "suppressed"


class ContainerCondition(StrEnum):
    selected_not_inspected = "selected_not_inspected"
    under_inspection = "under_inspection"
    freshly_discharged = "freshly_discharged"
    inspected_not_released = "inspected_not_released"
    released = "released"
    in_yard = "in_yard"


class ContainerAtAlert(BaseModel):
    """A container in the zone's yard blocks and its state as of the revision's `as_of`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    container_number: str = Field(description="ISO 6346")
    condition: ContainerCondition = Field(description="What the correlator made of its state")
    yard_block: str | None = Field(description="Yard block it stands in")
    yard_position: str | None = Field(description="Position as the terminal gave it")
    discharged_at: datetime | None = Field(description="When it came off the vessel")
    selected_for_scan_at: datetime | None = Field(description="Customs selected it for a scan")
    selected_for_inspection_at: datetime | None = Field(
        description="Customs selected it for physical inspection"
    )
    inspection_started_at: datetime | None = Field(description="Seal removed or inspected")
    inspection_finished_at: datetime | None = Field(description="Resealed")
    released_at: datetime | None = Field(description="Customs released it")

    @cached_property
    def encoded(self) -> str:
        """Its part of an alert's JSON body, keys sorted. A container's description serves
        every alert that lists it until its state changes, so it is encoded once."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True)


class Alert(Message):
    """One revision of an alert for a zone episode; the key on `alerts` is `alert_id`.

    `event_id` is `<alert_id>:r<revision>`, so a republished revision is recognisably the same.
    `event_time` is when the episode's first person was seen; `as_of` is the point in event
    time whose terminal knowledge this revision reflects (later than `event_time` for revisions).
    """

    SCHEMA_NAME: ClassVar[str] = "alert"
    SCHEMA_VERSION: ClassVar[int] = 1

    alert_id: str = Field(min_length=1, description="Derived from the first incident's id")
    revision: int = Field(
        ge=1, description="1 when raised, +1 for each change of severity, reason or rules"
    )
    severity: Severity = Field(description="critical, high, medium or suppressed")
    reason: str = Field(min_length=1, description="Why this severity, in words")
    revised_because: str | None = Field(
        default=None, description="For revisions after the first: what news changed it"
    )
    as_of: datetime = Field(description="Terminal knowledge up to this event time is included")
    site_id: str = Field(description="Site")
    zone_id: str = Field(description="Zone where the person was")
    camera_id: str = Field(description="Camera that saw it")
    yard_blocks: list[str] = Field(description="Yard blocks the zone covers")
    incident_id: str = Field(
        description="First access incident (start/update/end) of the zone episode it stands for"
    )
    access_event_ids: list[str] = Field(
        min_length=1, description="Access events it rests on: one per incident of the episode"
    )
    # Optional with defaults: alerts published before episodes existed still read as v1.
    rules: list[AccessRule] = Field(
        default_factory=list, description="Access rules that fired in the episode, first seen first"
    )
    last_seen_at: datetime | None = Field(
        default=None, description="Latest access event of the episode this revision includes"
    )
    containers: list[ContainerAtAlert] = Field(
        description="The containers that decided the severity first, at most a few dozen"
    )
    containers_in_zone: int = Field(ge=0, description="All containers in the yard blocks")
    snapshot_sha256: str | None = Field(description="Evidence JPEG of the access event")
    access_config_hash: str = Field(description="Site config hash the camera worker ran")
    config_hash: str = Field(description="Site config hash the correlator ran")

    def to_bytes(self) -> bytes:
        """The bytes `Message.to_bytes` gives, with each container's part encoded once:
        encoding a few dozen containers again for every alert is most of the encoder's work.
        The other fields are encoded as the two runs of keys sorted before and after
        "containers", and the three parts joined as `json.dumps` joins an object's members."""
        body = self.model_dump(mode="json", exclude={"containers"})
        keys = sorted(body)
        before = {key: body[key] for key in keys if key < "containers"}
        after = {key: body[key] for key in keys if key > "containers"}
        listed = ", ".join(container.encoded for container in self.containers)
        members = [json.dumps(before)[1:-1], f'"containers": [{listed}]', json.dumps(after)[1:-1]]
        return ("{" + ", ".join(member for member in members if member) + "}").encode()
