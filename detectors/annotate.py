"""The annotator: zones, lines, boxes, labels and evidence drawn onto frames, for the
pipeline's evidence snapshots, tune's video and contact sheet, and the zone preview.

>>> canvas = draw_zones(frame.copy(), site.zones_of("quay-cam-1"))  # doctest: +SKIP
>>> cv2.imwrite("zones.png", canvas)                                  # doctest: +SKIP

Drawing only: which rule fired, and for whom, is decided by the rules and handed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import cv2
import numpy as np

from config.zones import CrossingDirection, Line, Zone

if TYPE_CHECKING:  # the pipeline draws its evidence here, so this module cannot import it
    from detectors.pipeline import FrameAnalysis

Colour = tuple[int, int, int]  # BGR
PixelBox = tuple[int, int, int, int]  # x1 y1 x2 y2 in whole pixels

AMBER: Colour = (0, 200, 255)
AZURE: Colour = (255, 80, 0)
RED: Colour = (0, 0, 255)
WHITE: Colour = (255, 255, 255)
# One colour per zone in config order, chosen to stand out on grey paving and grass.
ZONE_PALETTE: tuple[Colour, ...] = (
    AMBER,
    AZURE,
    (255, 0, 200),
    (0, 255, 120),
    (0, 120, 255),
    (255, 255, 0),
    (160, 0, 255),
    (0, 255, 255),
)
MOTION_COLOUR: Colour = (200, 200, 200)
TRACK_COLOUR: Colour = (0, 220, 0)
FIRING_COLOUR = RED
TEXT_SHADOW: Colour = (0, 0, 0)
FONT = cv2.FONT_HERSHEY_SIMPLEX
ZONE_FILL_ALPHA = 0.18
ARROW_LENGTH = 30
# Image y points down, so the right of a viewer looking from a line's start to its end is
# the direction (-dy, dx); the arrows point to the side(s) that fire.
FIRING_SIDES = {
    CrossingDirection.left_to_right: (1.0,),
    CrossingDirection.right_to_left: (-1.0,),
    CrossingDirection.both: (1.0, -1.0),
}


def zone_colour(index: int) -> Colour:
    return ZONE_PALETTE[index % len(ZONE_PALETTE)]


# -- primitives --------------------------------------------------------------------------------


def put_label(
    canvas: np.ndarray,
    text: str,
    at: tuple[int, int],
    colour: Colour,
    size: float,
    outlined: bool = True,
) -> None:
    """Text; outlined in black, it reads on any background."""
    if outlined:
        cv2.putText(canvas, text, at, FONT, size, TEXT_SHADOW, 3, cv2.LINE_AA)
    cv2.putText(canvas, text, at, FONT, size, colour, 1, cv2.LINE_AA)


def draw_outline(canvas: np.ndarray, zone: Zone, colour: Colour) -> None:
    cv2.polylines(canvas, [_corners(zone)], isClosed=True, color=colour, thickness=2)


def draw_line(
    canvas: np.ndarray, line: Line, colour: Colour, thickness: int, arrows: bool = False
) -> None:
    """A tripwire; with `arrows`, pointing from its middle to the side(s) that fire."""
    cv2.line(canvas, line.start, line.end, colour, thickness)
    if not arrows:
        return
    start = np.asarray(line.start, dtype=np.float64)
    end = np.asarray(line.end, dtype=np.float64)
    middle = (start + end) / 2
    along = end - start
    right = np.array([-along[1], along[0]]) / max(np.linalg.norm(along), 1e-9)
    for sign in FIRING_SIDES[line.direction]:
        tip = middle + sign * right * ARROW_LENGTH
        cv2.arrowedLine(canvas, _pixel(middle), _pixel(tip), colour, 2, tipLength=0.4)


def draw_box(
    canvas: np.ndarray,
    box: Sequence[float],
    colour: Colour,
    label: str,
    size: float,
    outlined: bool = True,
) -> PixelBox:
    """An object's box with its label above; returns the box in whole pixels, for anything
    placed beside it."""
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, 2)
    put_label(canvas, label, (x1, max(12, y1 - 4)), colour, size, outlined)
    return x1, y1, x2, y2


def _corners(zone: Zone) -> np.ndarray:
    return np.asarray(zone.polygon, dtype=np.int32).reshape(-1, 1, 2)


def _pixel(point: np.ndarray) -> tuple[int, int]:
    return int(point[0]), int(point[1])


# -- evidence ----------------------------------------------------------------------------------


def draw_evidence(
    image: np.ndarray, zone: Zone, box: tuple[float, float, float, float], label: str
) -> np.ndarray:
    """A copy of `image` with the zone, its line if any, and the labelled box drawn on: plain
    strokes, so the snapshot shows the scene with as little covered as possible."""
    canvas = image.copy()
    draw_outline(canvas, zone, AMBER)
    if zone.line is not None:
        draw_line(canvas, zone.line, AZURE, thickness=2)
    draw_box(canvas, box, RED, label, 0.45, outlined=False)
    return canvas


# -- zones -------------------------------------------------------------------------------------


def draw_zones(canvas: np.ndarray, zones: Sequence[Zone]) -> np.ndarray:
    """Each zone shaded and outlined in its own colour and named; lines drawn with an arrow
    pointing the way that fires. Draws on `canvas` and returns it."""
    shade = canvas.copy()
    for index, zone in enumerate(zones):
        cv2.fillPoly(shade, [_corners(zone)], zone_colour(index))
    cv2.addWeighted(shade, ZONE_FILL_ALPHA, canvas, 1 - ZONE_FILL_ALPHA, 0, dst=canvas)
    for index, zone in enumerate(zones):
        colour = zone_colour(index)
        draw_outline(canvas, zone, colour)
        if zone.line is not None:
            draw_line(canvas, zone.line, colour, thickness=3, arrows=True)
        top_left = min(zone.polygon, key=lambda point: (point[1], point[0]))
        name = f"{zone.id} ({_rule_name(zone)})"
        # Kept inside the picture: a zone along the right edge would lose its name.
        (text_width, _), _ = cv2.getTextSize(name, FONT, 0.45, 1)
        x = max(0, min(top_left[0] + 4, canvas.shape[1] - text_width - 4))
        put_label(canvas, name, (x, max(14, top_left[1] + 14)), colour, 0.45)
    return canvas


def _rule_name(zone: Zone) -> str:
    presence = f"loitering {zone.loitering_seconds:g}s" if zone.loitering_seconds else "intrusion"
    if zone.line is not None:
        return f"{presence} + line {zone.line.direction.value}"
    return presence


# -- what one config made of a frame -----------------------------------------------------------


@dataclass(frozen=True)
class Firings:
    """The rule firings to show on a frame: banners of what just happened, and the tracks in
    an open incident with the zone and rule each is in."""

    banners: Sequence[str] = ()
    tracks: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AnalysisAnnotator:
    """Draws what one config made of a frame: its zones, the motion regions, the tracked boxes
    with ids and scores (red while in an incident), and a caption of frame and time."""

    zones: Sequence[Zone]
    title: str

    def annotate(
        self,
        image: np.ndarray,
        analysis: FrameAnalysis,
        firings: Firings,
        frame_number: int,
        at: datetime,
    ) -> np.ndarray:
        """A copy of `image` with the analysis drawn on."""
        canvas = draw_zones(image.copy(), self.zones)
        for x1, y1, x2, y2 in analysis.motion_regions:
            cv2.rectangle(canvas, (x1, y1), (x2, y2), MOTION_COLOUR, 1)
        objects = analysis.objects
        for row, track_id in enumerate(objects.track_ids):
            incident = firings.tracks.get(int(track_id))
            colour = TRACK_COLOUR if incident is None else FIRING_COLOUR
            label = f"#{track_id} {float(objects.scores[row]):.2f}"
            x1, _, _, y2 = draw_box(canvas, objects.boxes[row], colour, label, 0.42)
            if incident is not None:
                put_label(canvas, incident, (x1, y2 + 14), colour, 0.4)
        state = "model" if analysis.model_ran else "still: model skipped"
        put_label(canvas, self.title, (8, 20), WHITE, 0.55)
        caption = f"frame {frame_number}  {at:%H:%M:%S.%f}"[:-4] + f"  {state}"
        put_label(canvas, caption, (8, 40), WHITE, 0.45)
        for line, text in enumerate(firings.banners):
            put_label(canvas, text, (8, 62 + 18 * line), FIRING_COLOUR, 0.5)
        return canvas


# -- contact sheet -----------------------------------------------------------------------------


def thumbnail(canvas: np.ndarray, width: int) -> np.ndarray:
    scale = width / canvas.shape[1]
    return cv2.resize(canvas, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def contact_sheet(thumbs: Sequence[np.ndarray], columns: int) -> np.ndarray:
    """Same-sized thumbnails in rows of `columns`, the last row padded with black."""
    padded = [*thumbs, *[np.zeros_like(thumbs[0])] * (-len(thumbs) % columns)]
    rows = [np.hstack(padded[i : i + columns]) for i in range(0, len(padded), columns)]
    return np.vstack(rows)
