"""What one config did over the footage: counts, time per stage, and (with labels) how
right it was; as JSON for tools and as text for the terminal."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from config.site import SiteConfig
from config.zones import Zone
from detectors.evaluation.labels import GroundTruth
from detectors.evaluation.scoring import (
    NO_SCORE,
    Score,
    TrackBoxes,
    detection_score,
    event_scores,
    incidents,
    label_events,
)
from detectors.events import AccessPhase, AccessRule, ZoneEvent
from detectors.pipeline import FrameAnalysis
from detectors.rules import ZoneWatch

STAGES = ("decode", "motion", "model", "tracking", "rules")


@dataclass
class RunTally:
    """Accumulates one config's run frame by frame."""

    name: str
    site: SiteConfig
    camera_id: str
    frames: int = 0
    moving_frames: int = 0
    model_frames: int = 0
    detections: int = 0
    track_ids: set[int] = field(default_factory=set)
    events: list[ZoneEvent] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    frame_times: list[tuple[int, datetime]] = field(default_factory=list)
    boxes: TrackBoxes = field(default_factory=dict)
    frame_boxes: dict[datetime, np.ndarray] = field(default_factory=dict)

    def add(
        self, frame_number: int, at: datetime, analysis: FrameAnalysis, decode_s: float
    ) -> None:
        self.frames += 1
        self.moving_frames += int(analysis.moving)
        self.model_frames += int(analysis.model_ran)
        self.detections += analysis.detection_count
        self.track_ids.update(int(track) for track in analysis.objects.track_ids)
        self.events += analysis.events
        times = analysis.stage_times
        for stage, seconds in zip(
            STAGES,
            (decode_s, times.motion_s, times.model_s, times.tracking_s, times.rules_s),
            strict=True,
        ):
            self.seconds[stage] += seconds
        self.frame_times.append((frame_number, at))
        self.frame_boxes[at] = analysis.objects.boxes
        for row, track in enumerate(analysis.objects.track_ids):
            self.boxes[(at, int(track))] = analysis.objects.boxes[row]

    def summary(self, wall_s: float, truth: GroundTruth | None) -> dict[str, object]:
        zones = self.site.zones_of(self.camera_id)
        per_rule = Counter(
            _key(event.zone_id, event.rule.value)
            for event in self.events
            if event.phase is AccessPhase.start
        )
        result: dict[str, object] = {
            "config": self.name,
            "config_hash": self.site.config_hash(),
            "camera": self.camera_id,
            "frames": self.frames,
            "moving_frames": self.moving_frames,
            "model_frames": self.model_frames,
            "detections": self.detections,
            "tracks": len(self.track_ids),
            "events": {_key(zone.id, rule): 0 for zone in zones for rule in zone_rules(zone)}
            | dict(per_rule),
            "seconds": {stage: round(value, 3) for stage, value in self.seconds.items()},
            "wall_seconds": round(wall_s, 3),
            "frames_per_second": round(self.frames / wall_s, 2) if wall_s > 0 else None,
        }
        if truth is not None:
            result["accuracy"] = self._accuracy(truth)
        return result

    def _accuracy(self, truth: GroundTruth) -> dict[str, object]:
        labelled = [(number, at) for number, at in self.frame_times if truth.labelled(number)]
        labelled_times = {at for _, at in labelled}
        detections = NO_SCORE
        for number, at in labelled:
            detections += detection_score(self.frame_boxes[at], truth.frames[number])
        wanted_events = label_events(
            truth,
            self.site.zones_of(self.camera_id),
            self.camera_id,
            self.site.site.timezone,
            labelled,
        )
        wanted_boxes: TrackBoxes = {}
        for number, at in labelled:
            people = truth.frames[number].people()
            for row, track in enumerate(people.track_ids):
                wanted_boxes[(at, int(track))] = people.boxes[row]
        # Only incidents that start on a labelled frame can be judged.
        found = [i for i in incidents(self.events) if i.started_at in labelled_times]
        scores = event_scores(found, incidents(wanted_events), self.boxes, wanted_boxes)
        total = sum(scores.values(), NO_SCORE)
        return {
            "labels": str(truth.source),
            "labelled_frames": len(labelled),
            "detection": score_dict(detections),
            "events": {_key(*key): score_dict(score) for key, score in scores.items()},
            "events_total": score_dict(total),
        }


def zone_rules(zone: Zone) -> list[str]:
    """The rules a zone fires, as the zone watch decides them from its config."""
    presence = ZoneWatch(zone, "", "UTC").rule.value
    return [presence, AccessRule.line_crossing.value] if zone.line else [presence]


def _key(zone_id: str, rule: str) -> str:
    return f"{zone_id}/{rule}"


def score_dict(score: Score) -> dict[str, object]:
    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 3)

    return {
        "true_positives": score.true_positives,
        "false_positives": score.false_positives,
        "false_negatives": score.false_negatives,
        "precision": rounded(score.precision),
        "recall": rounded(score.recall),
        "f1": rounded(score.f1),
    }


# -- terminal text ---------------------------------------------------------------------------


def table(summaries: Sequence[dict[str, object]]) -> str:
    """The figures of one or more configs side by side, one row per figure."""
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, values: list[object]) -> None:
        rows.append((label, ["-" if value is None else str(value) for value in values]))

    def pick(*path: str) -> list[object]:
        values = []
        for summary in summaries:
            value: object = summary
            for part in path:
                value = value.get(part) if isinstance(value, dict) else None
            values.append(value)
        return values

    row("config", pick("config"))
    row("config hash", [str(h)[:12] for h in pick("config_hash")])
    for name in ("frames", "moving_frames", "model_frames", "detections", "tracks"):
        row(name.replace("_", " "), pick(name))
    event_keys = sorted({key for s in summaries for key in s["events"]})  # type: ignore[union-attr]
    for key in event_keys:
        row(f"events {key}", pick("events", key))
    for stage in STAGES:
        row(f"{stage} s", pick("seconds", stage))
    row("frames/s", pick("frames_per_second"))
    if any("accuracy" in s for s in summaries):
        row("labelled frames", pick("accuracy", "labelled_frames"))
        for figure in ("precision", "recall", "f1"):
            row(f"detection {figure} @IoU0.5", pick("accuracy", "detection", figure))
        accuracy_keys = sorted(
            {key for s in summaries for key in s.get("accuracy", {}).get("events", {})}  # type: ignore[union-attr]
        )
        for key in [*accuracy_keys, None]:
            path = ("accuracy", "events", key) if key else ("accuracy", "events_total")
            label = key or "all events"
            for figure in ("precision", "recall", "f1"):
                row(f"{label} {figure}", pick(*path, figure))
            row(f"{label} tp/fp/fn", _counts(pick(*path)))
    width = max(len(label) for label, _ in rows)
    columns = [max(len(values[i]) for _, values in rows) for i in range(len(summaries))]
    return "\n".join(
        f"{label:<{width}}  " + "  ".join(f"{v:>{w}}" for v, w in zip(values, columns, strict=True))
        for label, values in rows
    )


def _counts(scores: list[object]) -> list[object]:
    return [
        f"{s['true_positives']}/{s['false_positives']}/{s['false_negatives']}"
        if isinstance(s, dict)
        else None
        for s in scores
    ]
