"""Zone rules over tracked objects: intrusion, loitering and line crossing, with inertia.

A zone's rules follow from its config: a zone with `loitering_seconds` fires loitering
(passing through is allowed, staying is not); any other zone fires intrusion; a zone with a
`line` also fires line crossings in the configured direction. Class, score and area filters,
masks, track confirmation (detectors/confirmation.py) and the active schedule apply to all;
a confirmed track's detections count down to the zone's hold_score.

>>> watch = ZoneWatch(zone, camera_id="quay-cam-1", timezone="Europe/Amsterdam")  # doctest: +SKIP
>>> events = watch.observe(tracked_objects, frame_time)                            # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from config.zones import CrossingDirection, Zone
from detectors.confirmation import TrackConfirmation
from detectors.events import AccessPhase, AccessRule, TrackedObjects, ZoneEvent, incident_id
from detectors.geometry import CrossingLine, ZonePolygon, anchor_points
from detectors.identity import Box, box_distance, overlap, same_place
from detectors.schedule import is_armed

# A track the tracker stops reporting is given this long to come back before its incident
# ends: people are hidden behind each other for a moment, and that is not leaving the zone.
LOST_TRACK_GRACE = timedelta(seconds=2)
# While an incident lasts, an update is sent this often, carrying the newest box.
UPDATE_INTERVAL = timedelta(seconds=10)


@dataclass
class _Sighting:
    box: Box
    score: float
    object_class: str


@dataclass
class _TrackState:
    confirmation: TrackConfirmation
    inside_streak: int = 0
    outside_streak: int = 0
    streak_started_at: datetime | None = None
    present_since: datetime | None = None  # confirmed inside (after inertia)
    last_seen: datetime | None = None
    sighting: _Sighting | None = None
    incident: str | None = None
    last_update: datetime | None = None
    # line crossing: the side held for inertia frames, and the last point on it
    line_side: int = 0
    line_point: tuple[float, float] | None = None
    candidate_side: int = 0
    candidate_streak: int = 0
    candidate_point: tuple[float, float] | None = None
    # present tracks this one was born on (detectors/identity.py same_place), in its first frame
    born_on: frozenset[int] = frozenset()


def presence_rule(zone: Zone) -> AccessRule:
    """The rule presence in the zone fires: loitering when the zone sets a dwell, else intrusion."""
    return AccessRule.loitering if zone.loitering_seconds else AccessRule.intrusion


class ZoneWatch:
    """The rule of one zone, with the state of every track it has seen."""

    def __init__(
        self, zone: Zone, camera_id: str, timezone: str, known_identities: bool = False
    ) -> None:
        """`known_identities`: every track id is one person and each person has one id
        (labels), so no track is taken for another (detectors/identity.py)."""
        self.zone = zone
        self.known_identities = known_identities
        self.camera_id = camera_id
        self.timezone = timezone
        self.polygon = ZonePolygon(zone.polygon)
        self.masks = [ZonePolygon(mask) for mask in zone.masks]
        self.line = CrossingLine(zone.line.start, zone.line.end) if zone.line else None
        self.rule = presence_rule(zone)
        hold = zone.min_score if zone.hold_score is None else zone.hold_score
        self._hold_score = min(hold, zone.min_score)
        self._tracks: dict[int, _TrackState] = {}
        self._boxes: dict[int, np.ndarray] = {}  # this frame's, by track

    def observe(self, objects: TrackedObjects, at: datetime) -> list[ZoneEvent]:
        """Feed one analysed frame; returns the events it caused, in track order."""
        armed = is_armed(self.zone.schedule, at, self.timezone)
        wanted = self._wanted(objects)
        anchors = anchor_points(objects.boxes, self.zone.anchor)
        for mask in self.masks:
            wanted &= ~mask.contains(anchors)
        in_polygon = self.polygon.contains(anchors)
        sides = self.line.side(anchors) if self.line else np.zeros(len(objects), np.int8)
        events: list[ZoneEvent] = []
        # Every box of this frame, so a track compares with the others' boxes of now.
        self._boxes = {
            int(raw_id): objects.boxes[row] for row, raw_id in enumerate(objects.track_ids)
        }
        seen = set(self._boxes)
        for row, raw_id in enumerate(objects.track_ids):
            track_id = int(raw_id)
            box = objects.boxes[row]
            state = self._tracks.get(track_id) or self._new_track(track_id, box, seen, at)
            state.last_seen = at
            state.sighting = _Sighting(
                tuple(float(v) for v in box),  # type: ignore[arg-type]
                float(objects.scores[row]),
                objects.classes[row],
            )
            point = (float(anchors[row, 0]), float(anchors[row, 1]))
            confirmed = state.confirmation.see(state.sighting.score, point, box[3] - box[1])
            # A confirmed track is a person: its detections go on counting down to hold_score.
            threshold = self._hold_score if confirmed else self.zone.min_score
            eligible = bool(wanted[row]) and state.sighting.score >= threshold
            inside = eligible and bool(in_polygon[row])
            # An unconfirmed track is followed (streaks, line side) but raises nothing.
            may_raise = armed and confirmed
            events += self._presence_step(track_id, state, inside, may_raise, at)
            if self.line is not None and eligible and armed:
                crossings = self._line_step(track_id, state, int(sides[row]), point, at)
                events += crossings if confirmed else []
        for track_id, state in list(self._tracks.items()):
            if track_id in seen:
                continue
            lost = state.last_seen is None or at - state.last_seen >= LOST_TRACK_GRACE
            if state.present_since is not None and (lost or not armed):
                events += self._leave(track_id, state, at)
            if lost and state.present_since is None:
                del self._tracks[track_id]
        return events

    def _new_track(
        self, track_id: int, box: np.ndarray, seen: set[int], at: datetime
    ) -> _TrackState:
        """The state of a track seen for the first time: a lost present track's, when the
        new one appears where that one was lost (the tracker found them again under a new
        id), else a fresh one, which remembers the present tracks it was born on."""
        lost = [] if self.known_identities else self._lost_present(box, seen, at)
        if lost:
            lost_id = min(lost)[1]
            state = self._tracks.pop(lost_id)
            for other in self._tracks.values():  # those born on that person were born on this
                if lost_id in other.born_on:
                    other.born_on = other.born_on - {lost_id} | {track_id}
        else:
            state = _TrackState(TrackConfirmation.for_zone(self.zone))
            state.born_on = frozenset(
                other
                for other, other_state in self._tracks.items()
                if other in seen
                and other_state.present_since is not None
                and same_place(self._boxes[other], box)
            )
        self._tracks[track_id] = state
        return state

    def _lost_present(
        self, box: np.ndarray, seen: set[int], at: datetime, among: frozenset[int] | None = None
    ) -> list[tuple[float, int]]:
        """(distance, id) of the present tracks lost within LOST_TRACK_GRACE where `box` is."""
        return [
            (box_distance(state.sighting.box, box), lost_id)
            for lost_id, state in self._tracks.items()
            if lost_id not in seen
            and (among is None or lost_id in among)
            and state.present_since is not None
            and state.last_seen is not None
            and at - state.last_seen < LOST_TRACK_GRACE
            and state.sighting is not None
            and same_place(state.sighting.box, box)
        ]

    def _take_over(self, state: _TrackState, box: np.ndarray, at: datetime) -> bool:
        """A track born on a present one that has since been lost is that person's second
        box, which the tracker kept: it carries on that one's presence and incident."""
        if self.known_identities:
            return False
        lost = self._lost_present(box, set(self._boxes), at, state.born_on)
        if not lost:
            return False
        other = self._tracks.pop(min(lost)[1])
        state.present_since, state.incident = other.present_since, other.incident
        state.last_update = other.last_update
        return True

    def _duplicates_a_present_track(self, track_id: int, box: np.ndarray) -> bool:
        """Whether the box overlaps a present track's box of this frame by duplicate_iou:
        two boxes on one spot are one person, who is in the zone already."""
        limit = self.zone.duplicate_iou
        return (
            limit is not None
            and not self.known_identities
            and any(
                other != track_id
                and other_state.present_since is not None
                and other in self._boxes
                and overlap(self._boxes[other], box) >= limit
                for other, other_state in self._tracks.items()
            )
        )

    def close(self, at: datetime) -> list[ZoneEvent]:
        """End every open incident, e.g. when the source ends or the worker stops."""
        events: list[ZoneEvent] = []
        for track_id, state in self._tracks.items():
            if state.present_since is not None:
                events += self._leave(track_id, state, at)
        self._tracks.clear()
        return events

    # -- presence rules: intrusion and loitering -------------------------------------------

    def _wanted(self, objects: TrackedObjects) -> np.ndarray:
        """Detections of the zone's classes and size; the score is judged per track."""
        classes = np.array([name in self.zone.classes for name in objects.classes], dtype=bool)
        return classes & (objects.areas() >= self.zone.min_area)

    def _presence_step(
        self, track_id: int, state: _TrackState, inside: bool, may_raise: bool, at: datetime
    ) -> list[ZoneEvent]:
        if inside:
            if state.inside_streak == 0:
                state.streak_started_at = at
            state.inside_streak += 1
            state.outside_streak = 0
        else:
            state.outside_streak += 1
            state.inside_streak = 0
        events: list[ZoneEvent] = []
        if state.present_since is None:
            if may_raise and state.inside_streak >= self.zone.inertia_frames:
                box = self._boxes[track_id]
                if self._take_over(state, box, at):
                    return events
                if self._duplicates_a_present_track(track_id, box):
                    return events
                state.present_since = state.streak_started_at or at
                if self.rule is AccessRule.intrusion:
                    events.append(self._begin(track_id, state, at))
        elif state.outside_streak >= self.zone.inertia_frames or not may_raise:
            return self._leave(track_id, state, at)
        if state.present_since is None:
            return events
        if self.rule is AccessRule.loitering and state.incident is None:
            dwell = (at - state.present_since).total_seconds()
            if dwell >= (self.zone.loitering_seconds or 0):
                events.append(self._begin(track_id, state, at))
        elif (
            state.incident is not None
            and state.last_update is not None
            and at - state.last_update >= UPDATE_INTERVAL
        ):
            state.last_update = at
            events.append(self._event(track_id, state, AccessPhase.update, at, state.incident))
        return events

    def _begin(self, track_id: int, state: _TrackState, at: datetime) -> ZoneEvent:
        state.incident = incident_id(self.camera_id, self.zone.id, self.rule, track_id, at)
        state.last_update = at
        return self._event(track_id, state, AccessPhase.start, at, state.incident)

    def _leave(self, track_id: int, state: _TrackState, at: datetime) -> list[ZoneEvent]:
        events = []
        if state.incident is not None:
            events.append(self._event(track_id, state, AccessPhase.end, at, state.incident))
        state.present_since = None
        state.incident = None
        state.last_update = None
        state.inside_streak = 0
        return events

    # -- line crossing --------------------------------------------------------------------

    def _line_step(
        self,
        track_id: int,
        state: _TrackState,
        side: int,
        point: tuple[float, float],
        at: datetime,
    ) -> list[ZoneEvent]:
        if side == 0:
            return []  # on the line: wait to see where it goes
        if state.line_side == 0:
            state.line_side, state.line_point = side, point
            return []
        if side == state.line_side:
            state.line_point = point
            state.candidate_side, state.candidate_streak = 0, 0
            return []
        if side != state.candidate_side:
            state.candidate_side, state.candidate_streak, state.candidate_point = side, 0, point
        state.candidate_streak += 1
        if state.candidate_streak < self.zone.inertia_frames:
            return []
        before, after = state.line_point, state.candidate_point
        state.line_side, state.line_point = side, point
        state.candidate_side, state.candidate_streak = 0, 0
        assert self.line is not None and self.zone.line is not None
        assert before is not None and after is not None
        if not self.line.segment_crosses(np.array([before]), np.array([after]))[0]:
            return []  # went round the end of the line, not through it
        direction = CrossingDirection.left_to_right if side > 0 else CrossingDirection.right_to_left
        if self.zone.line.direction not in (CrossingDirection.both, direction):
            return []
        rule = AccessRule.line_crossing
        crossing = incident_id(self.camera_id, self.zone.id, rule, track_id, at)
        return [
            self._event(track_id, state, phase, at, crossing, rule, direction)
            for phase in (AccessPhase.start, AccessPhase.end)
        ]

    def _event(
        self,
        track_id: int,
        state: _TrackState,
        phase: AccessPhase,
        at: datetime,
        incident: str,
        rule: AccessRule | None = None,
        crossing_direction: CrossingDirection | None = None,
    ) -> ZoneEvent:
        assert state.sighting is not None
        return ZoneEvent(
            camera_id=self.camera_id,
            zone_id=self.zone.id,
            rule=rule or self.rule,
            phase=phase,
            incident_id=incident,
            track_id=track_id,
            object_class=state.sighting.object_class,
            score=state.sighting.score,
            box=state.sighting.box,
            at=at,
            crossing_direction=crossing_direction,
        )
