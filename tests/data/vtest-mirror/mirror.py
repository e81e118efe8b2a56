"""The second labelled clip: vtest.avi mirrored left to right, cropped and enlarged, so the
same people walk other paths at another scale through a frame of another size. Its labels
are vtest's ground truth under exactly the same transform.

    python tests/data/vtest-mirror/mirror.py .data/footage/vtest.avi .data/footage/vtest-mirror.avi

writes the clip (MJPG, 10 fps, 800x640) and, beside this file, gt.txt.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2

HERE = Path(__file__).resolve().parent
SOURCE_LABELS = HERE.parent / "vtest-gt" / "gt.txt"
SOURCE_WIDTH = 768
CROP = (64, 32, 704, 544)  # x1 y1 x2 y2 of the mirrored frame that is kept
SCALE = 1.25
SIZE = (round((CROP[2] - CROP[0]) * SCALE), round((CROP[3] - CROP[1]) * SCALE))


def transform_image(image):
    mirrored = cv2.flip(image, 1)
    x1, y1, x2, y2 = CROP
    return cv2.resize(mirrored[y1:y2, x1:x2], SIZE, interpolation=cv2.INTER_LINEAR)


def transform_box(
    left: float, top: float, width: float, height: float, whole: bool = True
) -> tuple[int, ...] | None:
    """The box in the new frame, clipped to it; None when nothing of it is left, or (for a
    `whole` box, a person) less than half of it."""
    x1, x2 = SOURCE_WIDTH - (left + width), SOURCE_WIDTH - left
    y1, y2 = top, top + height
    nx1 = max(0.0, (x1 - CROP[0]) * SCALE)
    ny1 = max(0.0, (y1 - CROP[1]) * SCALE)
    nx2 = min(SIZE[0], (x2 - CROP[0]) * SCALE)
    ny2 = min(SIZE[1], (y2 - CROP[1]) * SCALE)
    if nx2 <= nx1 or ny2 <= ny1:
        return None
    if whole and (nx2 - nx1) * (ny2 - ny1) < 0.5 * width * height * SCALE * SCALE:
        return None
    return round(nx1), round(ny1), round(nx2 - nx1), round(ny2 - ny1)


def transform_labels(source: Path, target: Path) -> None:
    rows = []
    for line in source.read_text().splitlines():
        fields = line.split(",")
        frame, track = fields[0], fields[1]
        # An ignored region (conf 0) stays ignored whatever share of it is left.
        person = fields[6] != "0"
        box = transform_box(*(float(value) for value in fields[2:6]), whole=person)
        if box is None:
            continue
        rows.append(",".join([frame, track, *map(str, box), *fields[6:]]))
    target.write_text("\n".join(rows) + "\n")


def transform_clip(source: Path, target: Path) -> None:
    capture = cv2.VideoCapture(str(source))
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, SIZE)
    try:
        while True:
            ok, image = capture.read()
            if not ok:
                break
            writer.write(transform_image(image))
    finally:
        capture.release()
        writer.release()


if __name__ == "__main__":
    transform_clip(Path(sys.argv[1]), Path(sys.argv[2]))
    transform_labels(SOURCE_LABELS, HERE / "gt.txt")
