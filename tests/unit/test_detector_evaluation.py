"""Evaluating detectors on footage: boxes at IoU 0.5 and zone events against labelled ones,
the summary they make, and the firings tune shows."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from config.loading import load_site
from config.zones import Zone
from detectors.evaluation.firings import FLASH_FRAMES, FiringBoard
from detectors.evaluation.labels import LabelsError, read_mot
from detectors.evaluation.scoring import (
    Incident,
    Score,
    detection_score,
    event_scores,
    iou_matrix,
    label_events,
)
from detectors.evaluation.summary import (
    AccuracySummary,
    RunSummary,
    RunTally,
    ScoreSummary,
    table,
)
from detectors.events import AccessPhase, AccessRule, ZoneEvent

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
    assert scores[("quay", "intrusion")].score == Score(1, 1, 0)
    assert scores[("quay", "intrusion")].false == [found[1]]
    assert scores[("quay", "intrusion")].missed == []


def test_event_about_another_person_does_not_match() -> None:
    found = [_incident(3, T0)]
    wanted = [_incident(7, T0)]
    scores = event_scores(
        found,
        wanted,
        {(T0, 3): np.array([0, 0, 10, 20.0])},
        {(T0, 7): np.array([300, 0, 310, 20.0])},
    )
    assert scores[("quay", "intrusion")].score == Score(0, 1, 1)
    assert scores[("quay", "intrusion")].missed == wanted


def test_event_in_other_zone_is_scored_apart() -> None:
    box = np.array([0, 0, 10, 20.0])
    scores = event_scores(
        [_incident(3, T0, "gate")], [_incident(7, T0)], {(T0, 3): box}, {(T0, 7): box}
    )
    assert scores[("gate", "intrusion")].score == Score(0, 1, 0)
    assert scores[("quay", "intrusion")].score == Score(0, 0, 1)


DEMO = Path(__file__).resolve().parents[2] / "config" / "sites" / "demo.yaml"


def _run(config: str, accuracy: AccuracySummary | None = None) -> RunSummary:
    """A run of the demo camera that saw nothing, with the accuracy given."""
    tally = RunTally(config, load_site(DEMO), "quay-cam-1")
    return dataclasses.replace(tally.summary(wall_s=2.0, truth=None), accuracy=accuracy)


def test_score_summary_rounds_its_figures_and_keeps_its_counts() -> None:
    summary = ScoreSummary.of(Score(2, 1, 0))
    assert (summary.precision, summary.recall, summary.f1) == (0.667, 1.0, 0.8)
    assert summary.counts == "2/1/0"


def test_summary_json_has_accuracy_only_with_labels() -> None:
    score = ScoreSummary.of(Score(1, 0, 1))
    labelled = _run("demo", AccuracySummary("gt.txt", 5, score, {"quay/intrusion": score}, score))
    assert "accuracy" not in _run("demo").to_json()
    document = labelled.to_json()
    assert list(document)[-1] == "accuracy"
    assert document["accuracy"]["events"]["quay/intrusion"] == {
        "true_positives": 1,
        "false_positives": 0,
        "false_negatives": 1,
        "precision": 1.0,
        "recall": 0.5,
        "f1": 0.667,
    }


def test_mistakes_name_the_frames_of_false_and_missed_events() -> None:
    score = ScoreSummary.of(Score(1, 2, 1))
    accuracy = AccuracySummary(
        "gt.txt",
        5,
        score,
        {"quay/intrusion": score},
        score,
        false_event_frames={"quay/intrusion": [12, 40]},
        missed_event_frames={"quay/intrusion": [7], "gate/line_crossing": [90]},
    )
    assert accuracy.mistakes() == [
        "gate/line_crossing: missed at frame 90",
        "quay/intrusion: false at frames 12, 40; missed at frame 7",
    ]


def test_table_shows_a_dash_where_a_config_has_no_such_figure() -> None:
    score = ScoreSummary.of(Score(1, 0, 1))
    labelled = _run("demo", AccuracySummary("gt.txt", 5, score, {"quay/intrusion": score}, score))
    rows = {
        line.split("  ")[0].strip(): line.split()
        for line in table([labelled, _run("b")]).splitlines()
    }
    assert rows["config"][-2:] == ["demo", "b"]
    assert rows["config hash"][-1] == load_site(DEMO).config_hash()[:12]
    assert rows["events quay-q3/intrusion"][-2:] == ["0", "0"]
    assert rows["labelled frames"][-2:] == ["5", "-"]
    assert rows["quay/intrusion tp/fp/fn"][-2:] == ["1/0/1", "-"]
    assert rows["all events recall"][-2:] == ["0.5", "-"]


def _event(phase: AccessPhase, track: int = 4) -> ZoneEvent:
    return ZoneEvent(
        camera_id="cam",
        zone_id="quay",
        rule=AccessRule.intrusion,
        phase=phase,
        incident_id="incident-1",
        track_id=track,
        object_class="person",
        score=0.9,
        box=(0, 0, 10, 20),
        at=T0,
    )


def test_firing_board_flashes_a_start_and_marks_the_track_until_the_end() -> None:
    board = FiringBoard()
    started = board.update([_event(AccessPhase.start)])
    assert started.banners == ("quay intrusion start #4",)
    assert started.tracks == {4: "quay intrusion"}
    for _ in range(FLASH_FRAMES - 1):
        assert board.update([]).banners == ("quay intrusion start #4",)
    assert board.update([]).banners == ()
    ended = board.update([_event(AccessPhase.end)])
    assert ended.tracks == {}
