"""Access events: a person where they should not be, as camera workers publish them on `access`."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from config.zones import CrossingDirection
from detectors.events import AccessPhase, AccessRule
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
    model_name: str = Field(description="Model file name")
    model_sha256: str = Field(description="SHA-256 of the model file")
    config_hash: str = Field(description="SHA-256 of the site config in force")

    @field_validator("crossing_direction")
    @classmethod
    def _one_way(cls, direction: CrossingDirection | None) -> CrossingDirection | None:
        # `both` is a config setting (which crossings fire); a crossing itself goes one way.
        if direction is CrossingDirection.both:
            raise ValueError("a crossing goes left_to_right or right_to_left, not both")
        return direction
