"""The motion gate: a cheap background model (OpenCV MOG2) that says whether, and where, a frame
changed, so the object model runs only when something moves."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# MOG2 works on a small grey copy: motion of a person is still many pixels at this width, and
# the gate costs a few milliseconds instead of tens.
GATE_WIDTH = 320
# Frames the background model remembers; about a minute at 5 fps, so a person who stops for a
# while does not melt into the background at once.
HISTORY_FRAMES = 300


@dataclass(frozen=True)
class MotionResult:
    moving: bool
    changed_ratio: float  # share of the picture that changed
    regions: tuple[tuple[int, int, int, int], ...]  # x1 y1 x2 y2 in full-frame pixels


class MotionGate:
    """Tells moving frames from still ones; `min_area` is square pixels of the full frame."""

    def __init__(self, min_area: int) -> None:
        self.min_area = min_area
        self._background = cv2.createBackgroundSubtractorMOG2(
            history=HISTORY_FRAMES, varThreshold=25, detectShadows=False
        )
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))

    def observe(self, image: np.ndarray) -> MotionResult:
        height, width = image.shape[:2]
        scale = GATE_WIDTH / width if width > GATE_WIDTH else 1.0
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        grey = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (5, 5), 0)
        mask = self._background.apply(grey)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._kernel)
        changed_ratio = float(np.count_nonzero(mask)) / mask.size
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        regions = []
        min_small_area = self.min_area * scale * scale
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            if w * h >= min_small_area:
                regions.append(
                    (int(x / scale), int(y / scale), int((x + w) / scale), int((y + h) / scale))
                )
        return MotionResult(bool(regions), changed_ratio, tuple(regions))
