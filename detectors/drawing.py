"""Drawing evidence onto a frame: the zone outline, its line, and the object's box. Pure
presentation; no rule logic lives here."""

from __future__ import annotations

import cv2
import numpy as np

from config.zones import Zone

ZONE_COLOUR = (0, 200, 255)  # BGR amber
LINE_COLOUR = (255, 80, 0)
BOX_COLOUR = (0, 0, 255)


def draw_evidence(
    image: np.ndarray, zone: Zone, box: tuple[float, float, float, float], label: str
) -> np.ndarray:
    """A copy of `image` with the zone, its line if any, and the labelled box drawn on."""
    canvas = image.copy()
    corners = np.asarray(zone.polygon, dtype=np.int32).reshape(-1, 1, 2)
    cv2.polylines(canvas, [corners], isClosed=True, color=ZONE_COLOUR, thickness=2)
    if zone.line is not None:
        cv2.line(canvas, zone.line.start, zone.line.end, LINE_COLOUR, 2)
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    cv2.rectangle(canvas, (x1, y1), (x2, y2), BOX_COLOUR, 2)
    cv2.putText(
        canvas,
        label,
        (x1, max(12, y1 - 4)),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.45,
        BOX_COLOUR,
        1,
        cv2.LINE_AA,
    )
    return canvas
