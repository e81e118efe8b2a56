"""Where in a frame the model runs: crops covering where zones and motion (or people already
tracked) meet, at the frame's own scale, and the boxes found in them mapped back to the frame.

A port camera sees people far away as a few tens of pixels; shrinking the whole frame to the
model's 640 px loses them, while the zones are a fraction of the frame. So the model runs on
the part of each zone's area that moves, at native scale:

- a zone's area is its polygon's bounding box, padded, and reaching up above the zone by the
  height of a person standing at its top edge (the anchor is the feet; the body is above);
- each motion region and each tracked box is padded and clipped to the zone areas it meets;
- crops are merged when one crop costs no more pixels than the two, tiled with overlap when
  larger than a tile, and grown to the model's stride;
- boxes from different crops that cover the same person (across a seam) are suppressed,
  keeping the higher score.

>>> plan = RegionPlan(frame_size=(768, 576), zones=[[(0, 200), (100, 200), (100, 300)]],
...                   padding=16, reach=64, tile=384)
>>> [crop.box for crop in plan.crops([(40, 220, 80, 280)])]
[(12, 202, 108, 298)]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from config.detector import Detector

Box = tuple[int, int, int, int]  # x1 y1 x2 y2, frame pixels, x2 and y2 exclusive

STRIDE = 32  # the model's coarsest stride: an input side must be a multiple of it
MIN_SIDE = 64  # below this the model has too little context to find a person


@dataclass(frozen=True)
class Crop:
    """A part of the frame the model runs on; `scale` resizes it first (1.0: native)."""

    box: Box
    scale: float = 1.0

    @property
    def input_size(self) -> tuple[int, int]:
        """Height and width of the model input: the scaled crop, rounded up to the stride."""
        x1, y1, x2, y2 = self.box
        return _to_stride((y2 - y1) * self.scale), _to_stride((x2 - x1) * self.scale)

    def to_frame(self, boxes: np.ndarray) -> np.ndarray:
        """Rows of x1 y1 x2 y2 ... in model-input pixels to frame pixels (other columns kept)."""
        mapped = boxes.astype(np.float32, copy=True)
        mapped[:, [0, 2]] = mapped[:, [0, 2]] / self.scale + self.box[0]
        mapped[:, [1, 3]] = mapped[:, [1, 3]] / self.scale + self.box[1]
        return mapped


class RegionPlan:
    """The crops of one camera for its zones; recomputed only when its zones change."""

    def __init__(
        self,
        frame_size: tuple[int, int],
        zones: Sequence[Sequence[tuple[int, int]]],
        padding: int,
        reach: int,
        tile: int,
        scale: float = 1.0,
    ) -> None:
        self.width, self.height = frame_size
        self.padding, self.tile, self.scale = padding, tile, scale
        self.zone_areas = [self._clip(_zone_area(polygon, padding, reach)) for polygon in zones]

    @classmethod
    def for_settings(
        cls,
        frame_size: tuple[int, int],
        zones: Sequence[Sequence[tuple[int, int]]],
        settings: Detector,
    ) -> RegionPlan:
        """The plan a site's detector settings ask for."""
        return cls(
            frame_size,
            zones,
            padding=settings.region_padding,
            reach=settings.region_reach,
            tile=settings.region_tile,
            scale=settings.region_scale,
        )

    def crops(self, interest: Iterable[Box]) -> list[Crop]:
        """Crops covering where the boxes of interest (motion, tracked people) meet zone areas."""
        wanted = []
        for box in interest:
            padded = _pad(box, self.padding)
            for area in self.zone_areas:
                met = _intersection(padded, area)
                if met is not None:
                    wanted.append(met)
        return self._finish(wanted)

    def whole_zones(self) -> list[Crop]:
        """Crops covering every zone's area whole: the still-scene refresh."""
        return self._finish(list(self.zone_areas))

    def _finish(self, boxes: list[Box]) -> list[Crop]:
        # A tile is given in model-input pixels, so a scaled-down crop covers more frame.
        frame_tile = int(self.tile / self.scale)
        overlap = min(2 * self.padding, frame_tile // 2)
        tiles = [t for box in merge_boxes(boxes) for t in tile_box(box, frame_tile, overlap)]
        return [Crop(self._grow_to_stride(t), self.scale) for t in tiles]

    def _grow_to_stride(self, box: Box) -> Box:
        """Grow a box evenly to the model's stride (and minimum), within the frame if it fits."""
        x1, y1, x2, y2 = box
        want_w = _to_stride(max(x2 - x1, MIN_SIDE / self.scale) * self.scale) / self.scale
        want_h = _to_stride(max(y2 - y1, MIN_SIDE / self.scale) * self.scale) / self.scale
        x1, x2 = _grow_span(x1, x2, int(np.ceil(want_w)), self.width)
        y1, y2 = _grow_span(y1, y2, int(np.ceil(want_h)), self.height)
        return x1, y1, x2, y2

    def _clip(self, box: Box) -> Box:
        x1, y1, x2, y2 = box
        return max(0, x1), max(0, y1), min(self.width, x2), min(self.height, y2)


def merge_boxes(boxes: list[Box]) -> list[Box]:
    """Replace two boxes by their union wherever the union has no more pixels than the two
    (so overlapping and touching crops become one, and nothing is run twice), until none do."""
    merged = sorted(set(boxes))
    changed = True
    while changed:
        changed = False
        for i in range(len(merged)):
            for j in range(i + 1, len(merged)):
                union = _union(merged[i], merged[j])
                if _area(union) <= _area(merged[i]) + _area(merged[j]):
                    merged[i] = union
                    del merged[j]
                    changed = True
                    break
            if changed:
                break
    return merged


def tile_box(box: Box, tile: int, overlap: int) -> list[Box]:
    """Split a box into tiles no larger than `tile` a side, neighbours overlapping by
    `overlap` so that a person on a seam is whole in at least one of them."""
    x1, y1, x2, y2 = box
    return [
        (tx1, ty1, tx2, ty2)
        for ty1, ty2 in _spans(y1, y2, tile, overlap)
        for tx1, tx2 in _spans(x1, x2, tile, overlap)
    ]


def suppress_across_seams(
    per_crop: Sequence[np.ndarray],
    iou: float = 0.5,
    containment: float = 0.8,
    nested: float = 0.9,
) -> np.ndarray:
    """One set of frame-pixel rows (x1 y1 x2 y2 score class) from the rows of each crop.

    Within a crop the model's own NMS already ran. Across crops the same person is found
    twice where crops overlap, often once cut by a crop's edge: a box is dropped when a
    higher-scoring box of another crop overlaps it by `iou` or covers `containment` of it.
    Within a crop, a box lying `nested` inside a higher-scoring one that overlaps it by
    `iou` is the same person boxed twice (legs and whole body), not a second person.
    """
    rows = [r for r in per_crop if len(r)]
    if not rows:
        return np.zeros((0, 6), np.float32)
    boxes = np.concatenate(rows).astype(np.float32)
    origin = np.concatenate([np.full(len(r), i) for i, r in enumerate(rows)])
    areas = _areas(boxes)
    kept: list[int] = []
    for index in np.argsort(-boxes[:, 4], kind="stable"):
        if kept:
            other = np.array(kept)
            inter = _intersections(boxes[index], boxes[other])
            overlap = inter / np.maximum(areas[index] + areas[other] - inter, 1e-6)
            covered = inter / np.maximum(np.minimum(areas[index], areas[other]), 1e-6)
            elsewhere = origin[other] != origin[index]
            across = elsewhere & ((overlap >= iou) | (covered >= containment))
            within = ~elsewhere & (overlap >= iou) & (covered >= nested)
            if (across | within).any():
                continue
        kept.append(int(index))
    return boxes[sorted(kept)]


def _zone_area(polygon: Sequence[tuple[int, int]], padding: int, reach: int) -> Box:
    xs = [x for x, _ in polygon]
    ys = [y for _, y in polygon]
    return min(xs) - padding, min(ys) - padding - reach, max(xs) + padding, max(ys) + padding


def _spans(start: int, end: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    length = end - start
    if length <= tile:
        return [(start, end)]
    count = int(np.ceil((length - overlap) / (tile - overlap)))
    step = (length - tile) / (count - 1)
    return [(start + round(i * step), start + round(i * step) + tile) for i in range(count)]


def _grow_span(start: int, end: int, want: int, limit: int) -> tuple[int, int]:
    """A span of length `want` around start..end, shifted to stay within 0..limit if it fits."""
    extra = want - (end - start)
    start -= extra // 2
    end = start + want
    if end > limit:
        start, end = start - (end - limit), limit
    if start < 0:
        start, end = 0, min(want, limit)
    return start, end


def _to_stride(length: float) -> int:
    return max(STRIDE, int(np.ceil(length / STRIDE - 1e-6)) * STRIDE)


def _pad(box: Box, padding: int) -> Box:
    return box[0] - padding, box[1] - padding, box[2] + padding, box[3] + padding


def _intersection(a: Box, b: Box) -> Box | None:
    box = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    return box if box[2] > box[0] and box[3] > box[1] else None


def _union(a: Box, b: Box) -> Box:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _area(box: Box) -> int:
    return (box[2] - box[0]) * (box[3] - box[1])


def _areas(boxes: np.ndarray) -> np.ndarray:
    return (boxes[:, 2] - boxes[:, 0]).clip(0) * (boxes[:, 3] - boxes[:, 1]).clip(0)


def _intersections(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    w = np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0])
    h = np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1])
    return w.clip(0) * h.clip(0)
