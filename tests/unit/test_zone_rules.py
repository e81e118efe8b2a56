"""Zone rules as specifications: what a track walking through a zone makes the worker say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from config.zones import ActiveWindow, Line, Zone
from detectors.events import AccessPhase, AccessRule, TrackedObjects
from detectors.geometry import CrossingLine, ZonePolygon
from detectors.rules import ZoneWatch

T0 = datetime(2026, 3, 14, 1, 0, tzinfo=UTC)  # 02:00 in Amsterdam
SQUARE = [(100, 100), (200, 100), (200, 200), (100, 200)]


def person_at(x: float, y: float, track_id: int = 1, score: float = 0.8) -> TrackedObjects:
    """A 20x60 person whose feet are at x, y."""
    return TrackedObjects(
        np.array([track_id]),
        np.array([[x - 10, y - 60, x + 10, y]]),
        np.array([score]),
        ("person",),
    )


def crossings(events):
    return [event for event in events if event.rule is AccessRule.line_crossing]


def walk(watch: ZoneWatch, feet: list[tuple[float, float]], step_s: float = 0.2):
    events = []
    for index, (x, y) in enumerate(feet):
        events += watch.observe(person_at(x, y), T0 + timedelta(seconds=index * step_s))
    return events


def zone(**fields) -> Zone:
    return Zone(id="quay-q3", camera="cam", polygon=SQUARE, **fields)


def test_polygon_contains_many_points_at_once():
    points = np.array([[150.0, 150.0], [50.0, 150.0], [199.0, 101.0], [250.0, 250.0]])
    assert ZonePolygon(SQUARE).contains(points).tolist() == [True, False, True, False]


def test_left_of_a_line_is_the_left_hand_of_someone_looking_from_start_to_end():
    # Looking from (0,0) down the image to (0,100): the left hand points to +x on screen.
    line = CrossingLine((0, 0), (0, 100))
    assert line.side(np.array([[10.0, 50.0], [-10.0, 50.0]])).tolist() == [-1, 1]


def test_person_crossing_a_zone_gives_one_start_and_one_end():
    feet = [(50, 150)] * 3 + [(150, 150)] * 10 + [(250, 150)] * 5
    events = walk(ZoneWatch(zone(inertia_frames=3), "cam", "Europe/Amsterdam"), feet)
    assert [(e.rule, e.phase) for e in events] == [
        (AccessRule.intrusion, AccessPhase.start),
        (AccessRule.intrusion, AccessPhase.end),
    ]
    assert events[0].incident_id == events[1].incident_id
    assert events[0].event_id != events[1].event_id


def test_inertia_ignores_a_foot_briefly_inside():
    feet = [(50, 150), (150, 150), (150, 150), (50, 150), (150, 150), (50, 150)]
    assert walk(ZoneWatch(zone(inertia_frames=3), "cam", "Europe/Amsterdam"), feet) == []


def test_inertia_ignores_a_brief_step_outside():
    feet = [(150, 150)] * 4 + [(250, 150)] * 2 + [(150, 150)] * 4
    events = walk(ZoneWatch(zone(inertia_frames=3), "cam", "Europe/Amsterdam"), feet)
    assert [e.phase for e in events] == [AccessPhase.start]


def test_start_time_is_the_frame_that_confirmed_the_entry():
    feet = [(150, 150)] * 3
    (start,) = walk(ZoneWatch(zone(inertia_frames=3), "cam", "Europe/Amsterdam"), feet)
    assert start.at == T0 + timedelta(seconds=0.4)


def test_low_score_small_box_and_other_class_are_filtered():
    watch = ZoneWatch(zone(inertia_frames=1, min_score=0.5), "cam", "Europe/Amsterdam")
    assert watch.observe(person_at(150, 150, score=0.3), T0) == []
    tiny = TrackedObjects(
        np.array([2]), np.array([[149, 149, 151, 151.0]]), np.array([0.9]), ("person",)
    )
    assert watch.observe(tiny, T0) == []
    boat = TrackedObjects(
        np.array([3]), np.array([[140, 90, 160, 150.0]]), np.array([0.9]), ("boat",)
    )
    assert watch.observe(boat, T0) == []


def test_lost_track_ends_its_incident_after_the_grace_period():
    watch = ZoneWatch(zone(inertia_frames=1), "cam", "Europe/Amsterdam")
    (start,) = watch.observe(person_at(150, 150), T0)
    assert watch.observe(TrackedObjects.none(), T0 + timedelta(seconds=1)) == []
    (end,) = watch.observe(TrackedObjects.none(), T0 + timedelta(seconds=3))
    assert end.phase is AccessPhase.end and end.incident_id == start.incident_id


def test_long_stay_sends_updates_with_the_same_incident():
    feet = [(150, 150)] * 60  # 12 s at 5 fps
    events = walk(ZoneWatch(zone(inertia_frames=1), "cam", "Europe/Amsterdam"), feet)
    assert [e.phase for e in events] == [AccessPhase.start, AccessPhase.update]
    assert len({e.incident_id for e in events}) == 1


def test_loitering_fires_after_dwell_and_passing_through_does_not():
    loiter = zone(inertia_frames=2, loitering_seconds=4)
    passing = [(50, 150)] + [(150, 150)] * 10 + [(250, 150)] * 3  # 2 s inside
    assert walk(ZoneWatch(loiter, "cam", "Europe/Amsterdam"), passing) == []
    staying = [(50, 150)] + [(150, 150)] * 30 + [(250, 150)] * 3  # 6 s inside
    events = walk(ZoneWatch(loiter, "cam", "Europe/Amsterdam"), staying)
    assert [(e.rule, e.phase) for e in events] == [
        (AccessRule.loitering, AccessPhase.start),
        (AccessRule.loitering, AccessPhase.end),
    ]
    # entered at frame 1 (0.2 s); 4 s of dwell is reached at 4.2 s
    assert events[0].at == T0 + timedelta(seconds=4.2)


@pytest.mark.parametrize(
    ("direction", "fires"),
    [
        ("both", ["right_to_left", "left_to_right"]),
        ("left_to_right", ["left_to_right"]),
        ("right_to_left", ["right_to_left"]),
    ],
)
def test_line_crossing_reports_its_direction(direction, fires):
    # A vertical line down the image at x=150: +x is its left (see the side test above).
    line = Line(start=(150, 0), end=(150, 300), direction=direction)
    watch = ZoneWatch(zone(inertia_frames=2, line=line), "cam", "Europe/Amsterdam")
    there_and_back = [(120, 150)] * 3 + [(180, 150)] * 3 + [(120, 150)] * 3
    events = crossings(walk(watch, there_and_back))
    starts = [e.crossing_direction for e in events if e.phase is AccessPhase.start]
    assert starts == fires
    assert all(e.rule is AccessRule.line_crossing for e in events)
    assert len(events) == 2 * len(fires)  # each crossing: a start and its end


def test_a_zone_with_a_line_also_fires_intrusion():
    line = Line(start=(150, 0), end=(150, 300))
    watch = ZoneWatch(zone(inertia_frames=1, line=line), "cam", "Europe/Amsterdam")
    events = walk(watch, [(120, 150), (180, 150), (250, 150)])
    assert sorted((e.rule.value, e.phase.value) for e in events) == [
        ("intrusion", "end"),
        ("intrusion", "start"),
        ("line_crossing", "end"),
        ("line_crossing", "start"),
    ]
    assert len({e.incident_id for e in events}) == 2


def test_passing_beyond_the_end_of_the_line_is_not_a_crossing():
    line = Line(start=(150, 0), end=(150, 100))
    watch = ZoneWatch(zone(inertia_frames=1, line=line), "cam", "Europe/Amsterdam")
    assert crossings(walk(watch, [(120, 180), (180, 180), (120, 180)])) == []


def test_a_jitter_across_the_line_is_not_a_crossing():
    line = Line(start=(150, 0), end=(150, 300))
    watch = ZoneWatch(zone(inertia_frames=3, line=line), "cam", "Europe/Amsterdam")
    assert crossings(walk(watch, [(145, 150)] * 3 + [(155, 150)] * 2 + [(145, 150)] * 3)) == []


def test_disarmed_zone_is_quiet_and_disarming_ends_an_incident():
    day_shift = [ActiveWindow(start="08:00", end="18:00")]
    watch = ZoneWatch(zone(inertia_frames=1, schedule=day_shift), "cam", "Europe/Amsterdam")
    assert watch.observe(person_at(150, 150), T0) == []  # 02:00 local: not armed
    morning = datetime(2026, 3, 14, 6, 59, 59, tzinfo=UTC)  # 07:59:59 local
    assert watch.observe(person_at(150, 150), morning) == []
    (start,) = watch.observe(person_at(150, 150), morning + timedelta(seconds=1))
    evening = datetime(2026, 3, 14, 17, 0, tzinfo=UTC)  # 18:00 local
    (end,) = watch.observe(person_at(150, 150), evening)
    assert (start.phase, end.phase) == (AccessPhase.start, AccessPhase.end)


# -- track confirmation, fixtures and masks ---------------------------------------------------


def watch_scores(watch: ZoneWatch, scores: list[float], feet=(150, 150)):
    events = []
    for index, score in enumerate(scores):
        at = T0 + timedelta(seconds=index * 0.2)
        events += watch.observe(person_at(*feet, score=score), at)
    return events


def test_a_flickering_detection_never_confirms_and_raises_nothing():
    # One frame in three above the zone's threshold: the median of any five stays below it.
    flicker = [0.5, 0.2, 0.2] * 7
    watch = ZoneWatch(zone(min_score=0.4, confirm_frames=5, inertia_frames=1), "cam", "UTC")
    assert watch_scores(watch, flicker) == []


def test_a_steady_track_confirms_after_its_first_frames_and_keeps_its_start():
    watch = ZoneWatch(zone(min_score=0.4, confirm_frames=5, inertia_frames=1), "cam", "UTC")
    events = watch_scores(watch, [0.8] * 8)
    assert [(e.phase, e.at) for e in events] == [(AccessPhase.start, T0 + timedelta(seconds=0.8))]
    # Without confirmation the same track raises on its first frame.
    early = watch_scores(ZoneWatch(zone(min_score=0.4, inertia_frames=1), "cam", "UTC"), [0.8])
    assert [e.at for e in early] == [T0]


def test_one_low_first_frame_does_not_condemn_a_track():
    watch = ZoneWatch(zone(min_score=0.4, confirm_frames=3, inertia_frames=1), "cam", "UTC")
    events = watch_scores(watch, [0.1, 0.1, 0.9, 0.9, 0.9])
    assert [e.phase for e in events] == [AccessPhase.start]


def test_a_thing_that_never_moved_raises_nothing_however_sure_the_model_is():
    # The cloth on the lawn: detected as a person at a high score in every frame, for minutes.
    watch = ZoneWatch(zone(min_travel=0.5, inertia_frames=1), "cam", "UTC")
    assert watch_scores(watch, [0.95] * 300) == []


def test_a_person_who_walks_in_raises_once_they_have_travelled():
    # 60-pixel person, min travel half a box height: 30 pixels from the first sighting.
    feet = [(110 + 6 * step, 150) for step in range(10)]
    events = walk(ZoneWatch(zone(min_travel=0.5, inertia_frames=1), "cam", "UTC"), feet)
    assert [(e.phase, e.at) for e in events] == [(AccessPhase.start, T0 + timedelta(seconds=1.0))]


def test_an_anchor_inside_a_mask_counts_as_outside_the_zone():
    masked = zone(masks=[[(140, 140), (160, 140), (160, 160), (140, 160)]], inertia_frames=1)
    assert walk(ZoneWatch(masked, "cam", "UTC"), [(150, 150)] * 10) == []
    events = walk(ZoneWatch(masked, "cam", "UTC"), [(120, 120)] * 10)
    assert [e.phase for e in events] == [AccessPhase.start]


def test_a_mask_without_area_is_refused_naming_the_mask():
    with pytest.raises(ValueError, match="mask 1: the corners lie on one line"):
        zone(masks=[[(0, 0), (10, 10), (20, 20)]])


def test_a_new_track_where_a_present_one_was_just_lost_carries_on_its_incident():
    watch = ZoneWatch(zone(inertia_frames=1), "cam", "UTC")
    events = []
    for step in range(5):
        events += watch.observe(person_at(150, 150, track_id=1), T0 + timedelta(seconds=0.2 * step))
    # The tracker loses the person in a group and finds them again as track 2, a step on.
    for step in range(5, 10):
        at = T0 + timedelta(seconds=0.2 * step)
        events += watch.observe(person_at(155, 150, track_id=2), at)
    events += watch.close(T0 + timedelta(seconds=2))
    assert [(e.phase, e.track_id) for e in events] == [
        (AccessPhase.start, 1),
        (AccessPhase.end, 2),
    ]
    assert events[0].incident_id == events[1].incident_id


def test_a_new_track_elsewhere_in_the_zone_is_another_person():
    watch = ZoneWatch(zone(inertia_frames=1), "cam", "UTC")
    events = watch.observe(person_at(110, 190, track_id=1), T0)
    events += watch.observe(person_at(190, 120, track_id=2), T0 + timedelta(seconds=0.2))
    assert [(e.phase, e.track_id) for e in events] == [
        (AccessPhase.start, 1),
        (AccessPhase.start, 2),
    ]


# -- hold score: a confirmed person's dipping score -------------------------------------------


def test_a_confirmed_person_whose_score_dips_stays_in_the_zone_down_to_the_hold_score():
    # Half hidden for a second: 0.3 is below min_score but the track is a person already.
    scores = [0.8] * 3 + [0.3] * 5 + [0.8] * 3
    held = ZoneWatch(zone(inertia_frames=3, hold_score=0.25), "cam", "UTC")
    assert [e.phase for e in watch_scores(held, scores)] == [AccessPhase.start]
    # Unset, the dip reads as leaving and the recovery as a second incident.
    unheld = ZoneWatch(zone(inertia_frames=3), "cam", "UTC")
    assert [e.phase for e in watch_scores(unheld, scores)] == [
        AccessPhase.start,
        AccessPhase.end,
        AccessPhase.start,
    ]


def test_the_hold_score_does_not_admit_a_track_that_never_reached_min_score():
    watch = ZoneWatch(zone(inertia_frames=1, hold_score=0.2), "cam", "UTC")
    assert watch_scores(watch, [0.3] * 20) == []


def test_a_confirmed_person_crosses_the_line_while_their_score_dips():
    line = Line(start=(150, 0), end=(150, 300))
    path = [((120, 150), 0.8)] * 3 + [((180, 150), 0.3)] * 3

    def crossing_starts(watch: ZoneWatch) -> list[datetime]:
        events = []
        for index, ((x, y), score) in enumerate(path):
            at = T0 + timedelta(seconds=index * 0.2)
            events += watch.observe(person_at(x, y, score=score), at)
        return [e.at for e in crossings(events) if e.phase is AccessPhase.start]

    held = zone(inertia_frames=2, line=line, hold_score=0.25)
    assert crossing_starts(ZoneWatch(held, "cam", "UTC")) == [T0 + timedelta(seconds=0.8)]
    unheld = zone(inertia_frames=2, line=line)
    assert crossing_starts(ZoneWatch(unheld, "cam", "UTC")) == []


def test_a_hold_score_above_min_score_is_refused_naming_both():
    with pytest.raises(ValueError, match="hold_score 0.5 is above min_score 0.4"):
        zone(min_score=0.4, hold_score=0.5)
