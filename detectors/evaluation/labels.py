"""Ground-truth boxes in the MOT Challenge text format, read once into per-frame arrays.

A row is `frame,id,left,top,width,height,conf,class,visibility` with 1-based frame numbers.
Rows with conf 0 or a class other than 1 (pedestrian) mark regions to ignore: a detection
there is neither right nor wrong. A frame counts as labelled when at least one row names it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from detectors.events import TrackedObjects

PEDESTRIAN_CLASS = 1
# Labelled people are fed to the zone rules as this class with full score, so they pass
# every class and score filter a zone can set; the area filter still applies.
LABEL_CLASS = "person"


class LabelsError(ValueError):
    """A labels file that cannot be read; the message names FILE:LINE."""


@dataclass(frozen=True)
class LabelledFrame:
    track_ids: NDArray[np.int64]
    boxes: NDArray[np.float64]  # (n, 4) x1 y1 x2 y2
    ignored: NDArray[np.bool_]  # rows that mark a region to ignore, not a person to find

    def people(self) -> TrackedObjects:
        keep = ~self.ignored
        count = int(keep.sum())
        return TrackedObjects(
            track_ids=self.track_ids[keep],
            boxes=self.boxes[keep],
            scores=np.ones(count),
            classes=(LABEL_CLASS,) * count,
        )


@dataclass(frozen=True)
class GroundTruth:
    source: Path
    frames: dict[int, LabelledFrame]  # by 1-based frame number

    def labelled(self, frame_number: int) -> bool:
        return frame_number in self.frames


def read_mot(path: Path) -> GroundTruth:
    rows: dict[int, list[tuple[int, float, float, float, float, bool]]] = {}
    for line_number, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        fields = text.split(",")
        if len(fields) < 6:
            raise LabelsError(
                f"{path}:{line_number}: needs at least frame,id,left,top,width,height; "
                f"got {len(fields)} fields"
            )
        try:
            frame, track_id = int(fields[0]), int(float(fields[1]))
            left, top, width, height = (float(value) for value in fields[2:6])
            confidence = float(fields[6]) if len(fields) > 6 else 1.0
            object_class = int(float(fields[7])) if len(fields) > 7 else PEDESTRIAN_CLASS
        except ValueError as error:
            raise LabelsError(f"{path}:{line_number}: {error}") from None
        if frame < 1 or width <= 0 or height <= 0:
            raise LabelsError(
                f"{path}:{line_number}: frame must be 1 or more and the box must have size; "
                f"got frame {frame}, {width}x{height}"
            )
        ignored = confidence == 0 or object_class != PEDESTRIAN_CLASS
        rows.setdefault(frame, []).append(
            (track_id, left, top, left + width, top + height, ignored)
        )
    if not rows:
        raise LabelsError(f"{path}: no labelled frames")
    frames = {
        frame: LabelledFrame(
            track_ids=np.array([row[0] for row in frame_rows], dtype=np.int64),
            boxes=np.array([row[1:5] for row in frame_rows], dtype=np.float64),
            ignored=np.array([row[5] for row in frame_rows], dtype=bool),
        )
        for frame, frame_rows in sorted(rows.items())
    }
    return GroundTruth(path, frames)
