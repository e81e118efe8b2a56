"""`tune --sweep`: a small grid over each zone's thresholds and confirmation settings, scored
against labels, its precision/recall frontier, and the config change it recommends.

The model and the tracker do not depend on a zone's settings, so the footage goes through
them once; every grid point only replays the zone rules over the recorded tracks, which
costs milliseconds where a model pass costs minutes.
"""

from __future__ import annotations

import difflib
import io
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

from ruamel.yaml import YAML
from tqdm import tqdm

from config.loading import load_site
from config.zones import Zone
from detectors.evaluation.labels import GroundTruth, read_mot
from detectors.evaluation.run import TuneError, TuneRun
from detectors.evaluation.scoring import (
    NO_SCORE,
    Score,
    TrackBoxes,
    event_scores,
    incidents,
    label_events,
)
from detectors.events import TrackedObjects
from detectors.rules import ZoneWatch

# The settings a sweep varies, with the values it tries: the zone's score threshold and the
# two halves of track confirmation (detectors/confirmation.py).
GRID: dict[str, tuple[float | int, ...]] = {
    "min_score": (0.3, 0.4, 0.5, 0.6),
    "confirm_frames": (1, 3, 5, 8),
    "min_travel": (0.0, 0.25, 0.5, 1.0),
}
TARGET_PRECISION = 0.9


@dataclass(frozen=True)
class RecordedFrame:
    number: int  # 1-based frame of the footage, as labels count
    at: datetime
    objects: TrackedObjects


@dataclass(frozen=True)
class SweepPoint:
    settings: dict[str, float | int]
    score: Score

    def dominates(self, other: SweepPoint) -> bool:
        mine, theirs = _figures(self.score), _figures(other.score)
        return all(a >= b for a, b in zip(mine, theirs, strict=True)) and mine != theirs


@dataclass(frozen=True)
class ZoneSweep:
    zone: Zone
    points: list[SweepPoint]
    target_precision: float = TARGET_PRECISION

    @property
    def current(self) -> dict[str, float | int]:
        return {name: getattr(self.zone, name) for name in GRID}

    @cached_property
    def frontier(self) -> list[SweepPoint]:
        """The points no other point beats on both precision and recall, by recall; of
        settings that score the same, the one closest to the zone's own."""
        best = [p for p in self.points if not any(o.dominates(p) for o in self.points)]
        by_score: dict[tuple[float, float], list[SweepPoint]] = {}
        for point in best:
            by_score.setdefault(_figures(point.score), []).append(point)
        closest = [min(same, key=self.zone_changes) for same in by_score.values()]
        return sorted(closest, key=lambda p: _figures(p.score)[::-1])

    def zone_changes(self, point: SweepPoint) -> int:
        """How many of the zone's settings the point changes."""
        return sum(getattr(self.zone, k) != v for k, v in point.settings.items())

    @cached_property
    def recommended(self) -> SweepPoint:
        """The frontier's most recall at the target precision, else its best F1. The frontier
        holds, of equal scores, the settings closest to the zone's own, so a sweep never
        recommends a change that buys nothing."""
        good = [p for p in self.frontier if (p.score.precision or 0.0) >= self.target_precision]
        if good:
            return max(good, key=lambda p: (p.score.recall or 0.0, p.score.precision or 0.0))
        return max(self.frontier, key=lambda p: p.score.f1 or 0.0)

    def changes(self) -> dict[str, float | int]:
        return {k: v for k, v in self.recommended.settings.items() if self.current[k] != v}


@dataclass(frozen=True)
class SweepReport:
    sweeps: list[ZoneSweep]
    diff: str  # empty when every zone keeps its settings

    def text(self) -> str:
        text = sweep_text(self.sweeps)
        return text + (self.diff or "no config change recommended\n")


def sweep(
    config_path: Path,
    labels: Path,
    camera_id: str | None = None,
    footage: Path | None = None,
    frame_limit: int | None = None,
    target_precision: float = TARGET_PRECISION,
    work_dir: Path = Path("tune-sweep"),
    progress: bool = True,
) -> SweepReport:
    """One pass of the footage through the model and tracker, then the grid per zone."""
    from detectors.evaluation.session import only_camera

    site = load_site(config_path)
    camera_id = camera_id or only_camera(site, config_path)
    truth = read_mot(labels)
    zones = site.zones_of(camera_id)
    if not zones:
        raise TuneError(f"{config_path}: camera {camera_id} has no zones to sweep")
    work_dir.mkdir(parents=True, exist_ok=True)
    run = TuneRun([site], camera_id, work_dir, footage, frame_limit)
    bar = tqdm(total=run.expected_frames, unit="frame", desc=camera_id, disable=not progress)
    frames = []
    try:
        for tuned in run.frames():
            frames.append(
                RecordedFrame(tuned.number, tuned.frame.captured_at, tuned.analyses[0].objects)
            )
            bar.update(1)
    finally:
        bar.close()
    timezone = site.site.timezone
    sweeps = [sweep_zone(z, camera_id, timezone, frames, truth, target_precision) for z in zones]
    return SweepReport(sweeps, config_diff(config_path, sweeps))


def sweep_zone(
    zone: Zone,
    camera_id: str,
    timezone: str,
    frames: Sequence[RecordedFrame],
    truth: GroundTruth,
    target_precision: float = TARGET_PRECISION,
) -> ZoneSweep:
    labelled = [frame for frame in frames if truth.labelled(frame.number)]
    times = [(frame.number, frame.at) for frame in labelled]
    wanted = incidents(label_events(truth, [zone], camera_id, timezone, times))
    found_boxes: TrackBoxes = {}
    for frame in frames:
        for row, track in enumerate(frame.objects.track_ids):
            found_boxes[(frame.at, int(track))] = frame.objects.boxes[row]
    wanted_boxes: TrackBoxes = {}
    for number, at in times:
        people = truth.frames[number].people()
        for row, track in enumerate(people.track_ids):
            wanted_boxes[(at, int(track))] = people.boxes[row]
    labelled_times = {at for _, at in times}
    points = []
    # The zone's own settings are always tried, so the report can set them beside the rest.
    axes = [sorted({*values, getattr(zone, name)}) for name, values in GRID.items()]
    for values in itertools.product(*axes):
        settings = dict(zip(GRID, values, strict=True))
        watch = ZoneWatch(zone.model_copy(update=settings), camera_id, timezone)
        events = [event for frame in frames for event in watch.observe(frame.objects, frame.at)]
        if frames:
            events += watch.close(frames[-1].at)
        found = [i for i in incidents(events) if i.started_at in labelled_times]
        matches = event_scores(found, wanted, found_boxes, wanted_boxes)
        points.append(SweepPoint(settings, sum((m.score for m in matches.values()), NO_SCORE)))
    return ZoneSweep(zone, points, target_precision)


def _figures(score: Score) -> tuple[float, float]:
    return (score.precision or 0.0, score.recall or 0.0)


# -- the report ----------------------------------------------------------------------------


def sweep_text(sweeps: Sequence[ZoneSweep]) -> str:
    lines = []
    for sweep in sweeps:
        lines += [
            f"zone {sweep.zone.id}: precision/recall frontier over {len(sweep.points)} settings",
            "  min_score  confirm_frames  min_travel  precision  recall  tp/fp/fn",
        ]
        for point in sweep.frontier:
            lines.append("  " + _point_row(point, point == sweep.recommended))
        current = next(p for p in sweep.points if p.settings == sweep.current)
        if current not in sweep.frontier:
            lines.append("  " + _point_row(current, False) + "  (current settings)")
        changes = sweep.changes()
        aim = f"precision >= {sweep.target_precision}"
        lines.append(
            f"  recommended ({aim}): "
            + (", ".join(f"{k} {v}" for k, v in changes.items()) or "keep the current settings")
        )
        lines.append("")
    return "\n".join(lines)


def _point_row(point: SweepPoint, recommended: bool) -> str:
    s, score = point.settings, point.score
    figures = [
        "-" if value is None else f"{value:.3f}" for value in (score.precision, score.recall)
    ]
    counts = f"{score.true_positives}/{score.false_positives}/{score.false_negatives}"
    return (
        f"{s['min_score']:>9}  {s['confirm_frames']:>14}  {s['min_travel']:>10}  "
        f"{figures[0]:>9}  {figures[1]:>6}  {counts}" + ("  <- recommended" if recommended else "")
    )


def config_diff(config_path: Path, sweeps: Sequence[ZoneSweep]) -> str:
    """The recommended changes as a unified diff of the site file (comments and layout kept),
    for `patch -p1` or by hand."""
    yaml = YAML()  # round trip: comments, order, quotes and flow style survive
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)  # the "  - id:" layout of the site files
    yaml.width = 4096  # a long polygon stays on its line
    original = config_path.read_text()
    tree = yaml.load(original)
    for sweep in sweeps:
        changes = sweep.changes()
        if not changes:
            continue
        zone = next((z for z in tree.get("zones", []) if z.get("id") == sweep.zone.id), None)
        if zone is None:
            raise SweepDiffError(f"{config_path}: no zone {sweep.zone.id} to change")
        zone.update(changes)
    edited = io.StringIO()
    yaml.dump(tree, edited)
    return "".join(
        difflib.unified_diff(
            original.splitlines(keepends=True),
            edited.getvalue().splitlines(keepends=True),
            f"a/{config_path}",
            f"b/{config_path}",
        )
    )


class SweepDiffError(ValueError):
    """The site file does not hold the zone the sweep changes."""
