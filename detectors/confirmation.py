"""Whether a track is a real, moving object before a zone lets it raise anything.

False detections have two shapes on port footage: a flicker (a shadow or a reflection the
model calls a person for a frame or two, at a middling score) and a fixture (a cloth, a
sign, a bollard the model calls a person in every frame). A track is confirmed once the
median of its latest scores over `confirm_frames` sightings reaches the zone's minimum
score, and once its anchor has travelled `min_travel` box heights from where it was first
seen. Both stay true for the rest of the track's life.

>>> confirmation = TrackConfirmation(frames=3, min_score=0.5, min_travel=0.0)
>>> [confirmation.see(score, (0.0, 0.0), 100.0) for score in (0.9, 0.3, 0.6)]
[False, False, True]
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass, field

from config.zones import Zone


@dataclass
class TrackConfirmation:
    frames: int
    min_score: float
    min_travel: float  # in box heights
    _scores: deque[float] = field(init=False)
    _origin: tuple[float, float] | None = None
    confident: bool = False
    moved: bool = False

    def __post_init__(self) -> None:
        self._scores = deque(maxlen=self.frames)
        self.moved = self.min_travel == 0

    @classmethod
    def for_zone(cls, zone: Zone) -> TrackConfirmation:
        return cls(zone.confirm_frames, zone.min_score, zone.min_travel)

    @property
    def confirmed(self) -> bool:
        return self.confident and self.moved

    def see(self, score: float, anchor: tuple[float, float], box_height: float) -> bool:
        """Take one sighting; returns whether the track is now confirmed."""
        if not self.confident:
            self._scores.append(score)
            self.confident = (
                len(self._scores) == self.frames
                and statistics.median(self._scores) >= self.min_score
            )
        if not self.moved:
            if self._origin is None:
                self._origin = anchor
            travelled = math.dist(self._origin, anchor)
            self.moved = travelled >= self.min_travel * max(box_height, 1.0)
        return self.confirmed
