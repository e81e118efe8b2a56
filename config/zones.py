"""Zones: restricted areas in a camera image, their lines, schedules and filters."""

from __future__ import annotations

from datetime import time
from enum import StrEnum

from pydantic import Field, ValidationInfo, field_validator

from config.base import Identifier, LocalTime, Period, Point, Score, SquarePixels, Strict


class Weekday(StrEnum):
    """A day of the week, as zone schedules name it."""

    mon = "mon"
    tue = "tue"
    wed = "wed"
    thu = "thu"
    fri = "fri"
    sat = "sat"
    sun = "sun"


class ActiveWindow(Strict):
    """A daily window (local time) when a zone is armed."""

    days: list[Weekday] = Field(
        default_factory=lambda: list(Weekday),
        min_length=1,
        title="Days",
        description="Days of the week the window opens on",
    )
    start: LocalTime = Field(title="Start", description="Local time HH:MM the rule becomes active")
    end: LocalTime = Field(
        title="End",
        description="Local time HH:MM it stops; an end before the start runs past midnight",
    )

    @field_validator("end")
    @classmethod
    def _not_empty(cls, end: time, info: ValidationInfo) -> time:
        # A field validator rather than a model one, so the error points at `end`.
        if info.data.get("start") == end:
            raise ValueError(f"end equals start ({end:%H:%M}): the window would be empty")
        return end


class Anchor(StrEnum):
    """The point of a detection box tested against zones and lines."""

    bottom_center = "bottom_center"
    center = "center"


class CrossingDirection(StrEnum):
    """Which way across a line fires."""

    left_to_right = "left_to_right"
    right_to_left = "right_to_left"
    both = "both"


class Line(Strict):
    """A tripwire in a camera image; crossing it fires an event."""

    start: Point = Field(title="Start", description="First end of the line, x y in pixels")
    end: Point = Field(title="End", description="Second end of the line, x y in pixels")
    direction: CrossingDirection = Field(
        default=CrossingDirection.both,
        title="Direction",
        description="Which crossing fires, seen looking from start to end: left_to_right "
        "fires for an anchor moving from the left side to the right side",
    )

    @field_validator("end")
    @classmethod
    def _has_length(cls, end: tuple[int, int], info: ValidationInfo) -> tuple[int, int]:
        if info.data.get("start") == end:
            raise ValueError(f"end equals start {list(end)}: a line needs length")
        return end


class Zone(Strict):
    """A restricted area in one camera's image, joined to the yard blocks it covers."""

    id: Identifier = Field(title="Zone id", description="Unique id, used as the Kafka key")
    camera: Identifier = Field(title="Camera", description="Id of the camera that sees it")
    polygon: list[Point] = Field(
        min_length=3, title="Polygon", description="Corners in pixels of the camera image, in order"
    )
    yard_blocks: list[Identifier] = Field(
        default_factory=list,
        title="Yard blocks",
        description="Terminal yard blocks this zone covers; containers there are joined",
    )
    classes: list[str] = Field(
        default_factory=lambda: ["person"],
        min_length=1,
        title="Object classes",
        description="Classes (after detector.class_aliases) that trigger the zone",
    )
    min_score: Score = Field(
        default=0.4, title="Minimum score", description="Detections below are ignored"
    )
    min_area: SquarePixels = Field(
        default=400,
        title="Minimum area",
        description="Boxes smaller than this many square pixels are ignored",
    )
    anchor: Anchor = Field(
        default=Anchor.bottom_center,
        title="Anchor",
        description="Point of a box tested against the zone (bottom_center: the feet)",
    )
    inertia_frames: int = Field(
        default=3,
        ge=1,
        le=1000,
        title="Inertia",
        description="Analysed frames a track must be in (or out) before entry (or exit) counts",
    )
    loitering_seconds: Period | None = Field(
        default=None,
        title="Loitering",
        description="Seconds a track stays inside before a loitering event fires",
    )
    line: Line | None = Field(
        default=None, title="Line", description="A line whose crossing fires an event"
    )
    schedule: list[ActiveWindow] = Field(
        default_factory=list,
        title="Active schedule",
        description="Windows when the zone is armed; empty means always",
    )

    @field_validator("polygon")
    @classmethod
    def _polygon_has_area(cls, polygon: list[tuple[int, int]]) -> list[tuple[int, int]]:
        doubled_area = sum(
            x0 * y1 - x1 * y0
            for (x0, y0), (x1, y1) in zip(polygon, polygon[1:] + polygon[:1], strict=True)
        )
        if doubled_area == 0:
            raise ValueError("the corners lie on one line: the polygon has no area")
        return polygon
