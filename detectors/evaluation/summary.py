"""What one config did over the footage: counts, time per stage, and (with labels) how
right it was; typed for the code, as JSON for tools and as text for the terminal."""

from __future__ import annotations

import dataclasses
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
    Incident,
    Score,
    TrackBoxes,
    detection_score,
    event_scores,
    incidents,
    label_events,
)
from detectors.events import AccessPhase, AccessRule, ZoneEvent
from detectors.pipeline import FrameAnalysis
from detectors.rules import presence_rule

STAGES = ("decode", "motion", "model", "tracking", "rules")
FIGURES = ("precision", "recall", "f1")


@dataclass(frozen=True)
class ScoreSummary:
    """A score's counts and figures, the figures rounded as reports show them."""

    true_positives: int
    false_positives: int
    false_negatives: int
    precision: float | None
    recall: float | None
    f1: float | None

    @classmethod
    def of(cls, score: Score) -> ScoreSummary:
        return cls(
            score.true_positives,
            score.false_positives,
            score.false_negatives,
            _rounded(score.precision),
            _rounded(score.recall),
            _rounded(score.f1),
        )

    def figures(self) -> tuple[float | None, ...]:
        """Precision, recall and F1, in the order of FIGURES."""
        return self.precision, self.recall, self.f1

    @property
    def counts(self) -> str:
        return f"{self.true_positives}/{self.false_positives}/{self.false_negatives}"


@dataclass(frozen=True)
class AccuracySummary:
    """How right a run was against the labels, over the frames that are labelled."""

    labels: str
    labelled_frames: int
    detection: ScoreSummary
    events: dict[str, ScoreSummary]  # by "zone/rule"
    events_total: ScoreSummary
    # Frame numbers where each zone rule's false events start, and where missed ones would.
    false_event_frames: dict[str, list[int]] = field(default_factory=dict)
    missed_event_frames: dict[str, list[int]] = field(default_factory=dict)

    def mistakes(self) -> list[str]:
        """One line per zone rule that has false or missed events, naming their frames."""
        lines = []
        for key in sorted({*self.false_event_frames, *self.missed_event_frames}):
            parts = [
                f"{what} at frame{'s' if len(frames) > 1 else ''} "
                + ", ".join(str(frame) for frame in frames)
                for what, frames in (
                    ("false", self.false_event_frames.get(key, [])),
                    ("missed", self.missed_event_frames.get(key, [])),
                )
                if frames
            ]
            lines.append(f"{key}: " + "; ".join(parts))
        return lines


@dataclass(frozen=True)
class RunSummary:
    """One config's run over the footage."""

    config: str
    config_hash: str
    camera: str
    frames: int
    moving_frames: int
    model_frames: int
    detections: int
    tracks: int
    events: dict[str, int]  # incidents started, by "zone/rule"
    seconds: dict[str, float]  # by stage, in the order of STAGES
    wall_seconds: float
    frames_per_second: float | None
    accuracy: AccuracySummary | None = None  # only with labels

    def to_json(self) -> dict[str, object]:
        document = dataclasses.asdict(self)
        if self.accuracy is None:
            del document["accuracy"]
        return document


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

    def summary(self, wall_s: float, truth: GroundTruth | None) -> RunSummary:
        zones = self.site.zones_of(self.camera_id)
        per_rule = Counter(
            _key(event.zone_id, event.rule.value)
            for event in self.events
            if event.phase is AccessPhase.start
        )
        return RunSummary(
            config=self.name,
            config_hash=self.site.config_hash(),
            camera=self.camera_id,
            frames=self.frames,
            moving_frames=self.moving_frames,
            model_frames=self.model_frames,
            detections=self.detections,
            tracks=len(self.track_ids),
            events={_key(zone.id, rule): 0 for zone in zones for rule in zone_rules(zone)}
            | dict(per_rule),
            seconds={stage: round(value, 3) for stage, value in self.seconds.items()},
            wall_seconds=round(wall_s, 3),
            frames_per_second=round(self.frames / wall_s, 2) if wall_s > 0 else None,
            accuracy=self._accuracy(truth) if truth is not None else None,
        )

    def _accuracy(self, truth: GroundTruth) -> AccuracySummary:
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
        matches = event_scores(found, incidents(wanted_events), self.boxes, wanted_boxes)
        frame_of = {at: number for number, at in labelled}

        def frames(mistaken: list[Incident]) -> list[int]:
            return sorted(frame_of[incident.started_at] for incident in mistaken)

        return AccuracySummary(
            labels=str(truth.source),
            labelled_frames=len(labelled),
            detection=ScoreSummary.of(detections),
            events={_key(*key): ScoreSummary.of(match.score) for key, match in matches.items()},
            events_total=ScoreSummary.of(sum((m.score for m in matches.values()), NO_SCORE)),
            false_event_frames={_key(*k): frames(m.false) for k, m in matches.items() if m.false},
            missed_event_frames={
                _key(*k): frames(m.missed) for k, m in matches.items() if m.missed
            },
        )


def zone_rules(zone: Zone) -> list[str]:
    """The rules a zone fires, as the zone watch decides them from its config."""
    presence = presence_rule(zone).value
    return [presence, AccessRule.line_crossing.value] if zone.line else [presence]


def _key(zone_id: str, rule: str) -> str:
    return f"{zone_id}/{rule}"


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


# -- terminal text ---------------------------------------------------------------------------

Column = list[tuple[str, object]]  # one config's figures, top to bottom: (row label, value)


def table(summaries: Sequence[RunSummary]) -> str:
    """The figures of one or more configs side by side, one row per figure; '-' where a
    config has no such figure."""
    event_keys = sorted({key for summary in summaries for key in summary.events})
    columns = [_run_column(summary, event_keys) for summary in summaries]
    accuracies = [summary.accuracy for summary in summaries]
    if any(accuracies):
        keys = sorted({key for accuracy in accuracies if accuracy for key in accuracy.events})
        for column, accuracy in zip(columns, accuracies, strict=True):
            column += _accuracy_column(accuracy, keys)
    labels = [label for label, _ in columns[0]]
    cells = [["-" if value is None else str(value) for _, value in column] for column in columns]
    width = max(len(label) for label in labels)
    widths = [max(len(cell) for cell in column) for column in cells]
    return "\n".join(
        f"{label:<{width}}  "
        + "  ".join(f"{column[row]:>{w}}" for column, w in zip(cells, widths, strict=True))
        for row, label in enumerate(labels)
    )


def _run_column(summary: RunSummary, event_keys: Sequence[str]) -> Column:
    return [
        ("config", summary.config),
        ("config hash", summary.config_hash[:12]),
        ("frames", summary.frames),
        ("moving frames", summary.moving_frames),
        ("model frames", summary.model_frames),
        ("detections", summary.detections),
        ("tracks", summary.tracks),
        *((f"events {key}", summary.events.get(key)) for key in event_keys),
        *((f"{stage} s", summary.seconds.get(stage)) for stage in STAGES),
        ("frames/s", summary.frames_per_second),
    ]


def _accuracy_column(accuracy: AccuracySummary | None, event_keys: Sequence[str]) -> Column:
    """The accuracy figures of a config, all None for a config run without labels."""
    column: Column = [("labelled frames", accuracy.labelled_frames if accuracy else None)]
    column += _score_rows(accuracy.detection if accuracy else None, "detection", " @IoU0.5")
    for key in [*event_keys, None]:
        if accuracy is None:
            score = None
        else:
            score = accuracy.events.get(key) if key else accuracy.events_total
        label = key or "all events"
        column += _score_rows(score, label)
        column.append((f"{label} tp/fp/fn", score.counts if score else None))
    return column


def _score_rows(score: ScoreSummary | None, prefix: str, suffix: str = "") -> Column:
    values = score.figures() if score else (None,) * len(FIGURES)
    return [
        (f"{prefix} {figure}{suffix}", value) for figure, value in zip(FIGURES, values, strict=True)
    ]
