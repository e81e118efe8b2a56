"""The annotator: what evidence snapshots and tune panels show, drawn in known colours."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from config.zones import Line, Zone
from detectors.annotate import (
    AMBER,
    AZURE,
    FIRING_COLOUR,
    RED,
    TRACK_COLOUR,
    AnalysisAnnotator,
    Firings,
    contact_sheet,
    draw_evidence,
)
from detectors.events import TrackedObjects
from detectors.pipeline import FrameAnalysis

QUAY = Zone(
    id="quay",
    camera="cam",
    polygon=[(20, 20), (180, 20), (180, 120), (20, 120)],
    line=Line(start=(100, 20), end=(100, 120)),
)


def colour_at(canvas: np.ndarray, x: int, y: int) -> tuple[int, ...]:
    return tuple(int(v) for v in canvas[y, x])


def test_evidence_shows_the_zone_its_line_and_the_box_without_covering_the_scene() -> None:
    image = np.full((160, 240, 3), 90, np.uint8)
    drawn = draw_evidence(image, QUAY, (40.0, 50.0, 70.0, 100.0), "person #1")
    assert colour_at(drawn, 20, 70) == AMBER  # left edge of the zone
    assert colour_at(drawn, 100, 30) == AZURE  # the line, plain: no arrows
    assert colour_at(drawn, 55, 100) == RED  # bottom of the box
    assert colour_at(drawn, 150, 70) == (90, 90, 90)  # inside the zone, not shaded
    assert colour_at(image, 20, 70) == (90, 90, 90)  # drawn on a copy


def _analysis(track_id: int) -> FrameAnalysis:
    objects = TrackedObjects(
        np.array([track_id]), np.array([[40.0, 50.0, 70.0, 100.0]]), np.array([0.8]), ("person",)
    )
    return FrameAnalysis([], objects, moving=True, changed_ratio=0.1, model_ran=True, inference_s=0)


def test_a_track_in_an_open_incident_is_drawn_red() -> None:
    image = np.full((160, 240, 3), 90, np.uint8)
    annotator = AnalysisAnnotator([QUAY], "demo")
    at = datetime(2026, 3, 14, 1, 0, tzinfo=UTC)
    quiet = annotator.annotate(image, _analysis(3), Firings(), 1, at)
    firing = annotator.annotate(image, _analysis(3), Firings((), {3: "quay intrusion"}), 1, at)
    assert colour_at(quiet, 55, 100) == TRACK_COLOUR
    assert colour_at(firing, 55, 100) == FIRING_COLOUR


def test_contact_sheet_pads_the_last_row_with_black() -> None:
    thumbs = [np.full((2, 3, 3), 200, np.uint8)] * 5
    sheet = contact_sheet(thumbs, columns=4)
    assert sheet.shape == (4, 12, 3)
    assert sheet[3, 3:].max() == 0 and sheet[3, :3].min() == 200
