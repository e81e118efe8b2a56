"""Zone rules over the tracker's identity switches: a second box on one person, kept on
after the first is lost, and two boxes on one spot, are one person and one incident."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from config.zones import Zone
from detectors.events import AccessPhase, TrackedObjects
from detectors.rules import ZoneWatch

T0 = datetime(2026, 3, 14, 1, 0, tzinfo=UTC)
SQUARE = [(100, 100), (200, 100), (200, 200), (100, 200)]


def people(*feet: tuple[int, float, float]) -> TrackedObjects:
    """20x60 people: (track id, feet x, feet y) each."""
    return TrackedObjects(
        np.array([track for track, _, _ in feet], dtype=int).reshape(-1),
        np.array([[x - 10, y - 60, x + 10, y] for _, x, y in feet], dtype=float).reshape(-1, 4),
        np.full(len(feet), 0.8),
        ("person",) * len(feet),
    )


def replay(watch: ZoneWatch, frames: list[TrackedObjects]):
    events = []
    for index, objects in enumerate(frames):
        events += watch.observe(objects, T0 + timedelta(seconds=0.2 * index))
    events += watch.close(T0 + timedelta(seconds=0.2 * len(frames)))
    return [(e.phase, e.track_id, e.incident_id) for e in events]


def zone(**fields) -> Zone:
    return Zone(id="quay-q3", camera="cam", polygon=SQUARE, inertia_frames=3, **fields)


# Track 1 walks in; the tracker puts a second box, track 2, on them and keeps it when it
# loses track 1, before track 2 has been in the zone for its inertia frames.
SECOND_BOX_KEPT = (
    [people((1, 150, 150))] * 4
    + [people((1, 150, 150), (2, 153, 150))]
    + [people((2, 153 + step, 150)) for step in range(6)]
)


def test_a_second_box_born_on_a_present_track_carries_on_its_incident_once_that_is_lost():
    events = replay(ZoneWatch(zone(), "cam", "UTC"), SECOND_BOX_KEPT)
    assert [(phase, track) for phase, track, _ in events] == [
        (AccessPhase.start, 1),
        (AccessPhase.end, 2),
    ]
    assert events[0][2] == events[1][2]


def test_labels_are_one_person_each_so_a_label_born_beside_another_is_its_own_incident():
    events = replay(ZoneWatch(zone(), "cam", "UTC", known_identities=True), SECOND_BOX_KEPT)
    starts = [track for phase, track, _ in events if phase is AccessPhase.start]
    assert starts == [1, 2]


def test_a_person_who_walks_in_beside_one_already_there_raises_their_own_incident():
    # Track 2 is born at the zone's edge, far from track 1: another person.
    frames = [people((1, 150, 150))] * 4 + [people((2, 105, 195)) for _ in range(6)]
    starts = [t for p, t, _ in replay(ZoneWatch(zone(), "cam", "UTC"), frames) if p.name == "start"]
    assert starts == [1, 2]


def test_two_boxes_on_one_spot_raise_one_incident_while_they_overlap():
    both = [people((1, 150, 150), (2, 152, 150)) for _ in range(10)]
    duplicated = zone(duplicate_iou=0.6)
    starts = [
        t for p, t, _ in replay(ZoneWatch(duplicated, "cam", "UTC"), both) if p.name == "start"
    ]
    assert starts == [1]
    # Unset, each box is a person.
    starts = [t for p, t, _ in replay(ZoneWatch(zone(), "cam", "UTC"), both) if p.name == "start"]
    assert starts == [1, 2]


def test_the_second_of_two_overlapping_people_enters_once_they_part():
    # Together for five frames (IoU 0.82), then track 2 steps 40 pixels aside.
    frames = [people((1, 150, 150), (2, 152, 150))] * 5 + [people((1, 150, 150), (2, 190, 150))] * 4
    events = replay(ZoneWatch(zone(duplicate_iou=0.6), "cam", "UTC"), frames)
    starts = [(t, i) for p, t, i in events if p is AccessPhase.start]
    assert [track for track, _ in starts] == [1, 2]
    assert starts[1][1] != starts[0][1]


def test_a_second_box_follows_its_person_through_a_new_id_before_taking_over():
    # Track 2 is born on track 1; the tracker then renames 1 to 3 (carried on), loses 3,
    # and keeps 2: still that one person, still one incident.
    frames = (
        [people((1, 150, 150))] * 4
        + [people((1, 150, 150), (2, 153, 150))]
        + [people((3, 151, 150), (2, 153, 150))]
        + [people((2, 154 + step, 150)) for step in range(6)]
    )
    events = replay(ZoneWatch(zone(), "cam", "UTC"), frames)
    assert [(phase, track) for phase, track, _ in events] == [
        (AccessPhase.start, 1),
        (AccessPhase.end, 2),
    ]
