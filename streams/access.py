"""Access events: a person where they should not be, as camera workers publish them on `access`."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from config.zones import CrossingDirection, Zone
from detectors.events import AccessPhase, AccessRule, ZoneEvent
from detectors.model import ModelIdentity
from streams.messages import Message


class BoundingBox(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    x1: float = Field(description="Left edge, pixels")
    y1: float = Field(description="Top edge, pixels")
    x2: float = Field(description="Right edge, pixels")
    y2: float = Field(description="Bottom edge, pixels")


class AccessEvent(Message):
    SCHEMA_NAME: ClassVar[str] = "access-event"
    SCHEMA_VERSION: ClassVar[int] = 1

    site_id: str = Field(description="Site the camera belongs to")
    camera_id: str = Field(description="Camera that saw it")
    zone_id: str = Field(description="Zone the rule belongs to (the Kafka key)")
    yard_blocks: list[str] = Field(description="Yard blocks the zone covers")
    rule: AccessRule = Field(description="Which rule fired")
    phase: AccessPhase = Field(description="start, update while it lasts, end")
    incident_id: str = Field(description="Shared by the start, updates and end of one firing")
    track_id: int = Field(ge=0, description="Tracker id of the object, stable across frames")
    object_class: str = Field(description="Class after aliasing, e.g. person")
    score: float = Field(ge=0, le=1, description="Detection score")
    box: BoundingBox = Field(description="Bounding box in the camera image")
    crossing_direction: CrossingDirection | None = Field(
        default=None, description="For line crossings: left_to_right or right_to_left"
    )
    snapshot_sha256: str | None = Field(
        default=None, description="SHA-256 of the evidence JPEG (start events)"
    )
    # Optional, as snapshot_sha256: events written before clips existed still read as v1.
    clip_sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 of the evidence clip (WebM) around the incident's start; on the "
        "first update after the clip is complete",
    )
    model_name: str = Field(description="Model file name")
    model_sha256: str = Field(description="SHA-256 of the model file")
    config_hash: str = Field(description="SHA-256 of the site config in force")

    @classmethod
    def from_zone_event(
        cls,
        event: ZoneEvent,
        *,
        site_id: str,
        zone: Zone,
        model: ModelIdentity,
        config_hash: str,
    ) -> AccessEvent:
        """The message for a zone event, stamped with the model and the config it was raised
        under; its id derives from the event, so a replay of the same footage repeats it."""
        x1, y1, x2, y2 = event.box
        return cls.create(
            event_id=event.event_id,
            event_time=event.at,
            site_id=site_id,
            camera_id=event.camera_id,
            zone_id=zone.id,
            yard_blocks=list(zone.yard_blocks),
            rule=event.rule,
            phase=event.phase,
            incident_id=event.incident_id,
            track_id=event.track_id,
            object_class=event.object_class,
            # The schema holds a score to [0, 1]: an event is clamped to it, never refused for it.
            score=min(1.0, max(0.0, event.score)),
            box=BoundingBox(x1=x1, y1=y1, x2=x2, y2=y2),
            crossing_direction=event.crossing_direction,
            snapshot_sha256=event.snapshot_sha256,
            clip_sha256=event.clip_sha256,
            model_name=model.name,
            model_sha256=model.sha256,
            config_hash=config_hash,
        )

    @field_validator("crossing_direction")
    @classmethod
    def _one_way(cls, direction: CrossingDirection | None) -> CrossingDirection | None:
        # `both` is a config setting (which crossings fire); a crossing itself goes one way.
        if direction is CrossingDirection.both:
            raise ValueError("a crossing goes left_to_right or right_to_left, not both")
        return direction
