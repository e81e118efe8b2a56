"""Picture health: a frozen picture, a blacked-out or covered lens, a camera whose view moved.

It looks at the sampled frames of one camera and reports only changes of state, so a camera
that stays covered for an hour gives one observation, and one more when it is uncovered.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import cv2
import numpy as np

from ingest.frames import CameraStatus, Frame, HealthObservation

THUMB_WIDTH = 160
# Mean absolute change (grey levels 0-255) below which two frames count as the same picture;
# sensor noise alone stays above it on a live camera.
FROZEN_DIFFERENCE = 0.3
FROZEN_AFTER = timedelta(seconds=10)
# A picture this dark or this uniform (a lens cap, a bag, spray paint) hides the scene.
DARK_MEAN = 18.0
UNIFORM_STD = 6.0
# A shift of the whole scene by more than this share of the width, held for MOVED_FRAMES
# frames, means the camera was turned or knocked; people walking do not move the background.
# The reference is the first picture: zones are drawn for that view, so the camera stays
# "moved" until it looks there again.
MOVED_SHARE = 0.05
MOVED_FRAMES = 5


class PictureHealth:
    """Feed every sampled frame of one camera; returns an observation when its state changes."""

    def __init__(self) -> None:
        self.status = CameraStatus.online
        self._previous: np.ndarray | None = None
        self._same_since: datetime | None = None
        self._reference: np.ndarray | None = None
        self._moved_streak = 0

    def observe(self, frame: Frame) -> HealthObservation | None:
        thumb = self._thumbnail(frame.image)
        status, detail = self._judge(thumb, frame.captured_at)
        self._previous = thumb
        if status is self.status:
            return None
        self.status = status
        return HealthObservation(frame.camera_id, status, frame.captured_at, detail)

    def source_returned(self) -> None:
        """The source came back after an outage: the next frames are judged afresh, without
        the picture before the outage (the reference view stays: the zones are drawn on it)."""
        self.status = CameraStatus.online
        self._previous = None
        self._same_since = None
        self._moved_streak = 0

    def _judge(self, thumb: np.ndarray, at: datetime) -> tuple[CameraStatus, str]:
        mean, std = float(thumb.mean()), float(thumb.std())
        if mean < DARK_MEAN or std < UNIFORM_STD:
            return (
                CameraStatus.blacked_out,
                f"lens covered or picture blacked out: dark or uniform "
                f"(mean {mean:.0f}, std {std:.1f})",
            )
        if self._previous is not None:
            change = float(np.abs(thumb - self._previous).mean())
            if change < FROZEN_DIFFERENCE:
                self._same_since = self._same_since or at
                if at - self._same_since >= FROZEN_AFTER:
                    return (
                        CameraStatus.frozen,
                        f"picture unchanged since {self._same_since:%H:%M:%S}",
                    )
            else:
                self._same_since = None
        shift = self._shift_from_reference(thumb)
        if shift > MOVED_SHARE * THUMB_WIDTH:
            self._moved_streak += 1
            if self._moved_streak >= MOVED_FRAMES or self.status is CameraStatus.moved:
                return CameraStatus.moved, f"view shifted by {shift / THUMB_WIDTH:.0%} of its width"
            return self.status, ""
        self._moved_streak = 0
        return CameraStatus.online, "picture normal"

    def _shift_from_reference(self, thumb: np.ndarray) -> float:
        if self._reference is None:
            self._reference = thumb
            return 0.0
        (dx, dy), _response = cv2.phaseCorrelate(self._reference, thumb)
        return float(np.hypot(dx, dy))

    @staticmethod
    def _thumbnail(image: np.ndarray) -> np.ndarray:
        height, width = image.shape[:2]
        size = (THUMB_WIDTH, max(1, round(height * THUMB_WIDTH / width)))
        grey = cv2.cvtColor(
            cv2.resize(image, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY
        )
        return grey.astype(np.float32)
