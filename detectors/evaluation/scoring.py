"""How good a run was against ground truth: boxes per frame at IoU 0.5, and zone events
against the events the same zone rules raise on the labelled people.

>>> score = Score(true_positives=8, false_positives=2, false_negatives=0)
>>> score.precision, score.recall
(0.8, 1.0)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from config.zones import Zone
from detectors.evaluation.labels import GroundTruth, LabelledFrame
from detectors.events import AccessPhase, ZoneEvent
from detectors.rules import ZoneWatch

DETECTION_IOU = 0.5
# An event matches a labelled one when its track is the labelled person (their boxes overlap
# EVENT_IDENTITY_IOU at either start) and it starts while the labelled incident lasts, from
# EVENT_TOLERANCE before its start (a detector's box can reach a zone a frame or three before
# the labelled feet do) to its end (a late alert is late, not false: confirmation and the
# tracker losing someone for a moment delay a start by seconds). An instant incident, a line
# crossing, lasts EVENT_TOLERANCE either side. A second event about the same incident is false:
# a duplicate alarm is noise to an operator.
EVENT_TOLERANCE = timedelta(seconds=2)
EVENT_IDENTITY_IOU = 0.3


@dataclass(frozen=True)
class Score:
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float | None:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else None

    @property
    def recall(self) -> float | None:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else None

    @property
    def f1(self) -> float | None:
        precision, recall = self.precision, self.recall
        if precision is None or recall is None or precision + recall == 0:
            return None
        return 2 * precision * recall / (precision + recall)

    def __add__(self, other: Score) -> Score:
        return Score(
            self.true_positives + other.true_positives,
            self.false_positives + other.false_positives,
            self.false_negatives + other.false_negatives,
        )


NO_SCORE = Score(0, 0, 0)


def iou_matrix(boxes: NDArray[np.float64], others: NDArray[np.float64]) -> NDArray[np.float64]:
    """Intersection over union of every x1 y1 x2 y2 box in `boxes` with every one in `others`."""
    overlap, area, other_area = _overlaps(boxes, others)
    return overlap / np.maximum(area + other_area - overlap, 1e-9)


def covered_share(boxes: NDArray[np.float64], regions: NDArray[np.float64]) -> NDArray[np.float64]:
    """Share of each box's area inside each region: an ignore region may be far larger than
    the boxes in it, so IoU would never call them inside."""
    overlap, area, _ = _overlaps(boxes, regions)
    return overlap / np.maximum(area, 1e-9)


def _overlaps(
    boxes: NDArray[np.float64], others: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Intersection area of every box with every other (rows: boxes, columns: others), and
    the areas of both, shaped to broadcast against it."""
    if len(boxes) == 0 or len(others) == 0:
        empty = np.zeros((len(boxes), len(others)))
        return empty, empty, empty
    a, b = boxes[:, None, :], others[None, :, :]
    width = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    height = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    area = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    other_area = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    return width * height, area, other_area


def greedy_pairs(similarity: NDArray[np.float64], threshold: float) -> list[tuple[int, int]]:
    """One-to-one pairs (row, column), best similarity first, each at least `threshold`."""
    pairs: list[tuple[int, int]] = []
    if similarity.size == 0:
        return pairs
    used_rows: set[int] = set()
    used_columns: set[int] = set()
    order = np.argsort(-similarity, axis=None, kind="stable")
    for flat in order:
        row, column = divmod(int(flat), similarity.shape[1])
        if similarity[row, column] < threshold:
            break
        if row in used_rows or column in used_columns:
            continue
        pairs.append((row, column))
        used_rows.add(row)
        used_columns.add(column)
    return pairs


def detection_score(boxes: NDArray[np.float64], truth: LabelledFrame) -> Score:
    """One frame's boxes against its labels; a box on an ignored region counts for nothing."""
    people = ~truth.ignored
    pairs = greedy_pairs(iou_matrix(boxes, truth.boxes[people]), DETECTION_IOU)
    matched = {row for row, _ in pairs}
    unmatched = [row for row in range(len(boxes)) if row not in matched]
    inside_ignored = covered_share(boxes[unmatched], truth.boxes[~people])
    false_positives = int(sum(1 for row in inside_ignored if not (row >= 0.5).any()))
    return Score(len(pairs), false_positives, int(people.sum()) - len(pairs))


# -- events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Incident:
    """One rule firing for one track, from its start event."""

    zone_id: str
    rule: str
    track_id: int
    started_at: datetime
    box: tuple[float, float, float, float]
    ended_at: datetime | None = None  # None: still open when the footage ended

    def admits(self, start: datetime) -> bool:
        """Whether an event starting then can be about this incident (EVENT_TOLERANCE)."""
        last = max(self.ended_at or datetime.max.replace(tzinfo=start.tzinfo), self.started_at)
        return (
            self.started_at - EVENT_TOLERANCE
            <= start
            <= max(last, self.started_at + EVENT_TOLERANCE)
        )


def incidents(events: Iterable[ZoneEvent]) -> list[Incident]:
    events = list(events)
    ends = {event.incident_id: event.at for event in events if event.phase is AccessPhase.end}
    return [
        Incident(
            event.zone_id,
            event.rule.value,
            event.track_id,
            event.at,
            event.box,
            ends.get(event.incident_id),
        )
        for event in events
        if event.phase is AccessPhase.start
    ]


def label_events(
    truth: GroundTruth,
    zones: Sequence[Zone],
    camera_id: str,
    timezone: str,
    frame_times: Sequence[tuple[int, datetime]],
) -> list[ZoneEvent]:
    """The events the zone rules raise on the labelled people, over the analysed frames that
    are labelled, so inertia and dwell count the same frames the run counted."""
    watches = [ZoneWatch(_as_truth(zone), camera_id, timezone, True) for zone in zones]
    events: list[ZoneEvent] = []
    last: datetime | None = None
    for frame_number, at in frame_times:
        labelled = truth.frames.get(frame_number)
        if labelled is None:
            continue
        people = labelled.people()
        events += [event for watch in watches for event in watch.observe(people, at)]
        last = at
    if last is not None:
        events += [event for watch in watches for event in watch.close(last)]
    return events


def _as_truth(zone: Zone) -> Zone:
    """The zone as it judges labelled people: track confirmation tells real detections from
    false ones, and a label is a real person by definition, however still it stands. Masks
    stay: they say where the zone does not watch at all. (The watch is told the identities
    are known: a label's id is one person, so none is taken for another's second box.)"""
    return zone.model_copy(update={"confirm_frames": 1, "min_travel": 0.0})


TrackBoxes = dict[tuple[datetime, int], NDArray[np.float64]]


@dataclass(frozen=True)
class EventMatch:
    """One zone rule's found incidents against the wanted ones: the score, and the
    incidents behind its false positives and false negatives, for the engineer to look at."""

    score: Score
    false: list[Incident]
    missed: list[Incident]


def event_scores(
    found: Sequence[Incident],
    wanted: Sequence[Incident],
    found_boxes: TrackBoxes,
    wanted_boxes: TrackBoxes,
) -> dict[tuple[str, str], EventMatch]:
    """Per (zone, rule): found incidents matched one-to-one with wanted ones, nearest start
    first, when they start while the wanted one lasts and are about the same person."""
    keys = sorted({(i.zone_id, i.rule) for i in [*found, *wanted]})
    matches: dict[tuple[str, str], EventMatch] = {}
    for zone_id, rule in keys:
        mine = [i for i in found if (i.zone_id, i.rule) == (zone_id, rule)]
        theirs = [i for i in wanted if (i.zone_id, i.rule) == (zone_id, rule)]
        closeness = np.full((len(mine), len(theirs)), -1.0)
        for row, incident in enumerate(mine):
            for column, truth in enumerate(theirs):
                apart = abs(incident.started_at - truth.started_at).total_seconds()
                if truth.admits(incident.started_at) and _same_person(
                    incident, truth, found_boxes, wanted_boxes
                ):
                    closeness[row, column] = 1.0 / (1.0 + apart)
        pairs = greedy_pairs(closeness, 0.0)
        false = [mine[row] for row in sorted(set(range(len(mine))) - {r for r, _ in pairs})]
        missed = [theirs[c] for c in sorted(set(range(len(theirs))) - {c for _, c in pairs})]
        score = Score(len(pairs), len(false), len(missed))
        matches[(zone_id, rule)] = EventMatch(score, false, missed)
    return matches


def _same_person(
    found: Incident, wanted: Incident, found_boxes: TrackBoxes, wanted_boxes: TrackBoxes
) -> bool:
    for at in (found.started_at, wanted.started_at):
        mine = found_boxes.get((at, found.track_id))
        theirs = wanted_boxes.get((at, wanted.track_id))
        if (
            mine is not None
            and theirs is not None
            and iou_matrix(mine[None], theirs[None])[0, 0] >= EVENT_IDENTITY_IOU
        ):
            return True
    return False
