"""Whether two tracks are one person: the tracker's identity switches, seen from a zone.

ByteTrack loses people in a group, behind a sign or behind each other, and finds them again
under a new id; it also puts a second box on one person for a few frames, and the second
box can outlive the first. To a zone each of those would be a new person and a second alarm.
These are the geometric tests the zone rules (detectors/rules.py) use to tell them apart.

>>> same_place((0.0, 0.0, 20.0, 60.0), np.array([5.0, 0.0, 25.0, 60.0]))
True
>>> round(overlap((0.0, 0.0, 20.0, 60.0), np.array([10.0, 0.0, 30.0, 60.0])), 2)
0.33
"""

from __future__ import annotations

import numpy as np

Box = tuple[float, float, float, float]
BoxLike = Box | np.ndarray  # x1 y1 x2 y2

# A box within this many box heights of another, of a like height, is where that person is.
SAME_PERSON_DISTANCE = 0.5


def box_distance(box: BoxLike, other: BoxLike) -> float:
    """Distance between box centres, in heights of the first box."""
    height = max(box[3] - box[1], 1.0)
    dx = (box[0] + box[2] - other[0] - other[2]) / 2
    dy = (box[1] + box[3] - other[1] - other[3]) / 2
    return float(np.hypot(dx, dy)) / height


def same_place(box: BoxLike, other: BoxLike) -> bool:
    """Whether `other` could be the same person as `box`: close, and of a like height."""
    ratio = (other[3] - other[1]) / max(box[3] - box[1], 1.0)
    return 2 / 3 <= ratio <= 3 / 2 and box_distance(box, other) <= SAME_PERSON_DISTANCE


def overlap(box: BoxLike, other: BoxLike) -> float:
    """Intersection over union of two x1 y1 x2 y2 boxes."""
    width = max(0.0, min(box[2], other[2]) - max(box[0], other[0]))
    height = max(0.0, min(box[3], other[3]) - max(box[1], other[1]))
    common = width * height
    union = (box[2] - box[0]) * (box[3] - box[1]) + (other[2] - other[0]) * (other[3] - other[1])
    return float(common / max(union - common, 1e-9))
