"""What the detector stages hand each other: tracked objects of one frame and zone events.

Ids are derived, never random: the same footage through the same config gives the same
incident and event ids, so a replay of a recorded file can be compared event by event.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from config.zones import CrossingDirection


class AccessRule(StrEnum):
    """Which zone rule fired: someone inside, someone staying too long, someone crossing."""

    intrusion = "intrusion"
    loitering = "loitering"
    line_crossing = "line_crossing"


class AccessPhase(StrEnum):
    """Where one firing is in its life: its start, updates while it lasts, its end."""

    start = "start"
    update = "update"
    end = "end"


@dataclass(frozen=True)
class TrackedObjects:
    """The tracked objects of one frame, one row per object (arrays, not a list of dicts)."""

    track_ids: NDArray[np.int64]
    boxes: NDArray[np.float64]  # (n, 4) x1 y1 x2 y2 pixels
    scores: NDArray[np.float64]
    classes: tuple[str, ...]  # class names after aliasing

    @classmethod
    def none(cls) -> TrackedObjects:
        return cls(np.zeros(0, np.int64), np.zeros((0, 4)), np.zeros(0), ())

    def __len__(self) -> int:
        return len(self.track_ids)

    def areas(self) -> NDArray[np.float64]:
        return (self.boxes[:, 2] - self.boxes[:, 0]) * (self.boxes[:, 3] - self.boxes[:, 1])


@dataclass(frozen=True)
class ZoneEvent:
    """One step of one rule firing for one track: start, update while it lasts, end."""

    camera_id: str
    zone_id: str
    rule: AccessRule
    phase: AccessPhase
    incident_id: str
    track_id: int
    object_class: str
    score: float
    box: tuple[float, float, float, float]
    at: datetime  # capture time of the frame that caused it
    crossing_direction: CrossingDirection | None = None
    snapshot_sha256: str | None = field(default=None, compare=False)
    clip_sha256: str | None = field(default=None, compare=False)

    @property
    def event_id(self) -> str:
        return derived_id(self.incident_id, self.phase.value, self.at.isoformat())


def derived_id(*parts: str) -> str:
    """A stable 32-hex-digit id from its parts."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def incident_id(
    camera_id: str, zone_id: str, rule: AccessRule, track_id: int, started_at: datetime
) -> str:
    return derived_id(camera_id, zone_id, rule.value, str(track_id), started_at.isoformat())
