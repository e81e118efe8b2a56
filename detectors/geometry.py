"""Zone geometry on arrays of points: inside a polygon, which side of a line, anchors of boxes.

>>> import numpy as np
>>> square = ZonePolygon([(0, 0), (10, 0), (10, 10), (0, 10)])
>>> square.contains(np.array([[5.0, 5.0], [15.0, 5.0]])).tolist()
[True, False]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from config.zones import Anchor

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def anchor_points(boxes: FloatArray, anchor: Anchor) -> FloatArray:
    """The point of each x1 y1 x2 y2 box that zones test: the feet or the centre."""
    x = (boxes[:, 0] + boxes[:, 2]) / 2
    y = boxes[:, 3] if anchor is Anchor.bottom_center else (boxes[:, 1] + boxes[:, 3]) / 2
    return np.stack([x, y], axis=1) if len(boxes) else np.zeros((0, 2))


class ZonePolygon:
    """A polygon in image pixels; `contains` tests many points at once (even-odd rule)."""

    def __init__(self, corners: Sequence[tuple[int, int]]) -> None:
        self.corners = np.asarray(corners, dtype=np.float64)
        self._starts = self.corners
        self._ends = np.roll(self.corners, -1, axis=0)

    def contains(self, points: FloatArray) -> BoolArray:
        if len(points) == 0:
            return np.zeros(0, dtype=bool)
        px = points[:, 0:1]  # (points, 1) against (edges,) broadcasts to (points, edges)
        py = points[:, 1:2]
        x0, y0 = self._starts[:, 0], self._starts[:, 1]
        x1, y1 = self._ends[:, 0], self._ends[:, 1]
        straddles = (y0 > py) != (y1 > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            crossing_x = x0 + (py - y0) * (x1 - x0) / (y1 - y0)
        crossings = straddles & (px < crossing_x)
        return (crossings.sum(axis=1) % 2) == 1


class CrossingLine:
    """A directed line segment; side() is -1 left, +1 right, 0 on it, looking from start to end.

    Image y grows downwards, so the left of a viewer looking from start to end is where the
    cross product (end - start) x (point - start) is negative.
    """

    def __init__(self, start: tuple[int, int], end: tuple[int, int]) -> None:
        self.start = np.asarray(start, dtype=np.float64)
        self.end = np.asarray(end, dtype=np.float64)

    def side(self, points: FloatArray) -> NDArray[np.int8]:
        direction = self.end - self.start
        relative = points - self.start
        cross = direction[0] * relative[:, 1] - direction[1] * relative[:, 0]
        return np.sign(cross).astype(np.int8)

    def segment_crosses(self, before: FloatArray, after: FloatArray) -> BoolArray:
        """Whether the moves before[i] -> after[i] pass through the segment (not its extension)."""
        mover_sides = self.side(before) * self.side(after)
        move = after - before
        to_start = self.start - before
        to_end = self.end - before
        cross_start = move[:, 0] * to_start[:, 1] - move[:, 1] * to_start[:, 0]
        cross_end = move[:, 0] * to_end[:, 1] - move[:, 1] * to_end[:, 0]
        return (mover_sides < 0) & (np.sign(cross_start) * np.sign(cross_end) <= 0)
