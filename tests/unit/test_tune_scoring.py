"""Scoring a tuning run: boxes at IoU 0.5 and zone events against labelled ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from config.zones import Zone
from detectors.evaluation.labels import LabelsError, read_mot
from detectors.evaluation.scoring import (
    Incident,
    Score,
    detection_score,
    event_scores,
    iou_matrix,
    label_events,
)
from detectors.events import AccessPhase, AccessRule

T0 = datetime(2026, 3, 14, 1, 0, tzinfo=UTC)
STEP = timedelta(seconds=0.2)


def write_labels(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gt.txt"
    path.write_text(text)
    return path


def test_iou_of_identical_and_disjoint_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [20, 20, 30, 30]], dtype=float)
    assert iou_matrix(boxes, boxes[:1]).ravel().tolist() == [1.0, 0.0]


def test_half_overlapping_box_is_below_iou_half() -> None:
    iou = iou_matrix(np.array([[0, 0, 10, 10.0]]), np.array([[5, 0, 15, 10.0]]))[0, 0]
    assert iou == pytest.approx(1 / 3)


def test_detection_score_counts_hits_misses_and_false_boxes(tmp_path: Path) -> None:
    truth = read_mot(write_labels(tmp_path, "1,1,0,0,10,20,1,1,1\n1,2,100,0,10,20,1,1,1\n"))
    found = np.array([[1, 1, 10, 20], [200, 200, 210, 220]], dtype=float)
    assert detection_score(found, truth.frames[1]) == Score(1, 1, 1)


def test_box_on_an_ignored_region_is_neither_right_nor_wrong(tmp_path: Path) -> None:
    truth = read_mot(write_labels(tmp_path, "1,1,0,0,10,20,1,1,1\n1,9,40,40,100,100,0,1,1\n"))
    found = np.array([[0, 0, 10, 20], [50, 50, 70, 70]], dtype=float)
    assert detection_score(found, truth.frames[1]) == Score(1, 0, 0)


def test_bad_labels_line_is_reported_with_file_and_line(tmp_path: Path) -> None:
    path = write_labels(tmp_path, "1,1,0,0,10,20,1,1,1\n2,1,zero,0,10,20\n")
    with pytest.raises(LabelsError, match=r"gt.txt:2:"):
        read_mot(path)


def test_score_figures() -> None:
    score = Score(6, 2, 4)
    assert (score.precision, score.recall) == (0.75, 0.6)
    assert score.f1 == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert Score(0, 0, 0).precision is None


def test_labelled_person_walking_into_zone_raises_intrusion(tmp_path: Path) -> None:
    zone = Zone(id="quay", camera="cam", polygon=[(0, 100), (200, 100), (200, 200), (0, 200)])
    # Feet at y 60, 80, then inside from frame 3 on: inertia 3 makes frame 5 the start.
    rows = [f"{n},7,50,{20 * n},20,40,1,1,1" for n in range(1, 9)]
    truth = read_mot(write_labels(tmp_path, "\n".join(rows)))
    times = [(n, T0 + n * STEP) for n in range(1, 9)]
    events = label_events(truth, [zone], "cam", "UTC", times)
    assert [(e.phase, e.at) for e in events] == [
        (AccessPhase.start, T0 + 5 * STEP),
        (AccessPhase.end, T0 + 8 * STEP),
    ]


def _incident(track: int, at: datetime, zone: str = "quay") -> Incident:
    return Incident(zone, AccessRule.intrusion.value, track, at, (0, 0, 10, 10))


def test_event_matches_the_same_person_starting_close_in_time() -> None:
    box = np.array([0, 0, 10, 20.0])
    found = [_incident(3, T0 + STEP), _incident(4, T0 + 40 * STEP)]
    wanted = [_incident(7, T0)]
    scores = event_scores(found, wanted, {(T0 + STEP, 3): box}, {(T0 + STEP, 7): box})
    assert scores[("quay", "intrusion")] == Score(1, 1, 0)


def test_event_about_another_person_does_not_match() -> None:
    found = [_incident(3, T0)]
    wanted = [_incident(7, T0)]
    scores = event_scores(
        found,
        wanted,
        {(T0, 3): np.array([0, 0, 10, 20.0])},
        {(T0, 7): np.array([300, 0, 310, 20.0])},
    )
    assert scores[("quay", "intrusion")] == Score(0, 1, 1)


def test_event_in_other_zone_is_scored_apart() -> None:
    box = np.array([0, 0, 10, 20.0])
    scores = event_scores(
        [_incident(3, T0, "gate")], [_incident(7, T0)], {(T0, 3): box}, {(T0, 7): box}
    )
    assert scores[("gate", "intrusion")] == Score(0, 1, 0)
    assert scores[("quay", "intrusion")] == Score(0, 0, 1)
