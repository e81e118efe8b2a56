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
    hold_score: Score | None = Field(
        default=None,
        title="Hold score",
        description="Score a confirmed track's detections need to go on counting, for "
        "presence in the zone and for crossing its line; at most min_score. A person's score "
        "dips for a few frames when they turn, are half hidden or walk away from the camera, "
        "and at min_score that reads as leaving the zone and, when the score recovers, as a "
        "second incident. Unset: min_score",
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
    confirm_frames: int = Field(
        default=1,
        ge=1,
        le=100,
        title="Confirmation frames",
        description="Analysed frames a track must have been seen, with the median of its "
        "latest scores over them at or above min_score, before it can raise an event: a "
        "false detection flickers, a person holds. 1 raises on the first eligible frame",
    )
    min_travel: float = Field(
        default=0.0,
        ge=0.0,
        le=20.0,
        title="Minimum travel",
        description="Box heights a track's anchor must have moved from where it was first "
        "seen before it can raise an event, so a thing that never moved (a cloth, a sign, a "
        "statue) raises none however often it is detected. It also holds back a person who "
        "stands still from the moment the camera first sees them; 0 turns the check off",
    )
    duplicate_iou: Score | None = Field(
        default=None,
        title="Duplicate overlap",
        description="Intersection over union with the box of a track already present in the "
        "zone at or above which a track does not enter it: the tracker puts a second box on "
        "one person in a group for a few frames, and two boxes on one spot are one person. "
        "The second enters once the boxes part. Unset: every track enters on its own",
    )
    masks: list[list[Point]] = Field(
        default_factory=list,
        title="Masks",
        description="Polygons (corners in pixels) where nothing raises an event of this "
        "zone, for spots that always false-fire; an anchor inside a mask counts as outside",
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

    @field_validator("hold_score")
    @classmethod
    def _hold_at_most_min_score(cls, hold: float | None, info: ValidationInfo) -> float | None:
        min_score = info.data.get("min_score")
        if hold is not None and min_score is not None and hold > min_score:
            raise ValueError(
                f"hold_score {hold} is above min_score {min_score}: it only lowers the bar"
            )
        return hold

    @field_validator("polygon")
    @classmethod
    def _polygon_has_area(cls, polygon: list[tuple[int, int]]) -> list[tuple[int, int]]:
        _require_area(polygon)
        return polygon

    @field_validator("masks")
    @classmethod
    def _masks_have_area(cls, masks: list[list[tuple[int, int]]]) -> list[list[tuple[int, int]]]:
        for number, mask in enumerate(masks, start=1):
            if len(mask) < 3:
                raise ValueError(f"mask {number} has {len(mask)} corners: a polygon needs 3")
            _require_area(mask, f"mask {number}: ")
        return masks


def _require_area(corners: list[tuple[int, int]], what: str = "") -> None:
    doubled_area = sum(
        x0 * y1 - x1 * y0
        for (x0, y0), (x1, y1) in zip(corners, corners[1:] + corners[:1], strict=True)
    )
    if doubled_area == 0:
        raise ValueError(f"{what}the corners lie on one line: the polygon has no area")
