"""`tune --sweep` on recorded tracks: the grid finds the settings that drop a fixture the
model calls a person, keeps the person who walks in, and writes the change as a diff."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from config.zones import Zone
from detectors.evaluation.labels import GroundTruth, LabelledFrame
from detectors.evaluation.sweep import RecordedFrame, config_diff, sweep_zone
from detectors.events import TrackedObjects

T0 = datetime(2026, 3, 14, 1, 0, tzinfo=UTC)
ZONE = Zone(id="lawn", camera="cam", polygon=[(0, 0), (400, 0), (400, 300), (0, 300)])
CLOTH = [200.0, 200.0, 230.0, 260.0]  # never moves, scored 0.9 in every frame


def walker(step: int) -> list[float]:
    x = 20.0 + 8 * step
    return [x, 100.0, x + 20, 160.0]


def footage(frames: int = 40) -> tuple[list[RecordedFrame], GroundTruth]:
    recorded, labelled = [], {}
    for step in range(frames):
        number = step + 1
        recorded.append(
            RecordedFrame(
                number,
                T0 + timedelta(seconds=0.2 * step),
                TrackedObjects(
                    np.array([1, 2]),
                    np.array([walker(step), CLOTH]),
                    np.array([0.8, 0.9]),
                    ("person", "person"),
                ),
            )
        )
        labelled[number] = LabelledFrame(np.array([7]), np.array([walker(step)]), np.array([False]))
    return recorded, GroundTruth(Path("gt.txt"), labelled)


def test_the_sweep_recommends_minimum_travel_and_keeps_the_walker():
    frames, truth = footage()
    result = sweep_zone(ZONE, "cam", "UTC", frames, truth)
    current = next(p for p in result.points if p.settings == result.current)
    assert (current.score.true_positives, current.score.false_positives) == (1, 1)
    assert result.recommended.score.precision == 1.0
    assert result.recommended.score.recall == 1.0
    assert result.changes() == {"min_travel": 0.25}
    frontier = result.frontier
    assert frontier[-1] == result.recommended
    assert all(not other.dominates(point) for point in frontier for other in result.points)


def test_the_diff_sets_the_zone_field_and_applies_with_patch(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    site = tmp_path / "site.yaml"
    site.write_text(
        "zones:\n"
        "  - id: lawn\n"
        "    camera: cam\n"
        "    min_score: 0.4\n"
        "    schedule:\n"
        "      - start: '19:00'\n"
        "        end: '07:00'\n"
        "  # the next zone\n"
        "  - id: quay\n"
        "    camera: cam\n"
        "    min_travel: 0.0\n"
    )
    frames, truth = footage()
    lawn = sweep_zone(ZONE, "cam", "UTC", frames, truth)
    diff = config_diff(Path("site.yaml"), [lawn])
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in "+++---"]
    assert changed == ["+    min_travel: 0.25"]
    subprocess.run(["patch", "-p1"], input=diff, text=True, cwd=tmp_path, check=True)
    text = site.read_text()
    assert text.index("min_travel: 0.25") < text.index("- id: quay")
    assert text.count("min_travel") == 2
