"""Evidence clips around an incident's start, and the live view's latest frame."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

from detectors.clips import ClipStore, IncidentClips
from detectors.events import AccessPhase, AccessRule, TrackedObjects, ZoneEvent
from streams.worker.live import LiveView, live_frame_path

T0 = datetime(2026, 3, 14, 1, 0, tzinfo=UTC)
FPS = 5.0


def frame(n: int) -> np.ndarray:
    # Each frame's brightness says which it is, so the decoded clip can be checked frame by frame.
    return np.full((96, 128, 3), (n * 7) % 250, np.uint8)


def zone_event(phase: AccessPhase, at: datetime, box=(10.0, 10.0, 40.0, 60.0)) -> ZoneEvent:
    return ZoneEvent(
        camera_id="quay-cam-1",
        zone_id="quay-q3",
        rule=AccessRule.intrusion,
        phase=phase,
        incident_id="incident-1",
        track_id=4,
        object_class="person",
        score=0.8,
        box=box,
        at=at,
        snapshot_sha256="s" * 64 if phase is AccessPhase.start else None,
    )


def tracked(box: tuple[float, float, float, float]) -> TrackedObjects:
    return TrackedObjects(np.array([4]), np.array([box]), np.array([0.9]), ("person",))


def decoded_frames(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(image)
    capture.release()
    return frames


def run(clips: IncidentClips, frames: int, events: dict[int, ZoneEvent]) -> list[ZoneEvent]:
    published: list[ZoneEvent] = []
    for n in range(frames):
        at = T0 + timedelta(seconds=n / FPS)
        box = (10.0 + n, 10.0, 40.0 + n, 60.0)
        published += clips.observe(frame(n), at, tracked(box), [events[n]] if n in events else [])
    return published + clips.close()


def test_a_clip_spans_seconds_before_and_after_the_start_and_is_named_by_its_hash(
    tmp_path: Path,
) -> None:
    store = ClipStore(tmp_path / "clips")
    clips = IncidentClips(store, FPS, before=timedelta(seconds=2), after=timedelta(seconds=2))
    start = zone_event(AccessPhase.start, T0 + timedelta(seconds=4))  # frame 20
    published = run(clips, 60, {20: start})

    assert [(e.phase, e.clip_sha256 is not None) for e in published] == [
        (AccessPhase.start, False),
        (AccessPhase.update, True),
    ]
    update = published[1]
    assert update.incident_id == start.incident_id and update.track_id == start.track_id
    assert update.at == T0 + timedelta(seconds=6)  # the clip's last frame, 2 s after the start
    assert update.box == (40.0, 10.0, 70.0, 60.0)  # the track's newest box, frame 30
    assert update.snapshot_sha256 is None
    assert update.event_id != start.event_id

    path = store.path_of(update.clip_sha256)
    assert path.suffix == ".webm"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == update.clip_sha256
    levels = [int(image.mean().round()) for image in decoded_frames(path)]
    # Frames 10 to 30: two seconds before the start at 5 fps, the start, two seconds after.
    assert len(levels) == 21
    assert all(
        abs(level - (n * 7) % 250) <= 3 for level, n in zip(levels, range(10, 31), strict=True)
    )
    assert list((tmp_path / "clips").iterdir()) == [path]  # no partial file left behind


def test_an_end_before_the_clip_is_written_is_held_until_after_the_clip_update(
    tmp_path: Path,
) -> None:
    clips = IncidentClips(ClipStore(tmp_path), FPS, after=timedelta(seconds=3))
    start = zone_event(AccessPhase.start, T0 + timedelta(seconds=1))
    end = zone_event(AccessPhase.end, T0 + timedelta(seconds=2))
    published = run(clips, 30, {5: start, 10: end})
    assert [e.phase for e in published] == [
        AccessPhase.start,
        AccessPhase.update,
        AccessPhase.end,
    ]
    assert published[1].at == end.at  # the clip is cut where the incident ended
    assert published[2] == end


def test_the_live_view_writes_at_most_once_per_interval(tmp_path: Path) -> None:
    clock = iter([0.0, 0.4, 1.1, 1.5, 2.2])
    view = LiveView(tmp_path, "quay-cam-1", interval_s=1.0, clock=lambda: next(clock))
    written = [view.offer(frame(n)) for n in range(5)]
    assert written == [True, False, True, False, True]
    path = live_frame_path(tmp_path, "quay-cam-1")
    assert int(cv2.imread(str(path)).mean().round()) in range(26, 31)  # frame 4
    assert sorted(p.name for p in path.parent.iterdir()) == ["quay-cam-1.jpg"]


def clip_seconds(path: Path) -> float:
    capture = cv2.VideoCapture(str(path))
    frames, fps = capture.get(cv2.CAP_PROP_FRAME_COUNT), capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    return frames / fps


def test_a_clip_lasts_as_long_as_it_filmed_when_fewer_frames_were_analysed(
    tmp_path: Path,
) -> None:
    # Configured for 5 fps, analysed at 2: six seconds of footage are still six seconds.
    store = ClipStore(tmp_path)
    clips = IncidentClips(store, FPS)
    published = []
    for n in range(30):
        at = T0 + timedelta(seconds=n / 2)
        events = [zone_event(AccessPhase.start, at)] if n == 8 else []
        published += clips.observe(frame(n), at, tracked((1.0, 2.0, 3.0, 4.0)), events)
    published += clips.close()
    sha256 = next(e.clip_sha256 for e in published if e.clip_sha256)
    assert abs(clip_seconds(store.path_of(sha256)) - 6.5) < 0.6  # 13 frames at 2 fps


def test_the_clip_update_follows_the_incident_onto_the_track_that_carries_it_on(
    tmp_path: Path,
) -> None:
    clips = IncidentClips(ClipStore(tmp_path), FPS, after=timedelta(seconds=3))
    start = zone_event(AccessPhase.start, T0)
    carried = dataclasses.replace(
        zone_event(AccessPhase.update, T0 + timedelta(seconds=1)), track_id=9
    )
    published = []
    for n in range(20):
        at = T0 + timedelta(seconds=n / FPS)
        events = {0: [start], 5: [carried]}.get(n, [])
        objects = TrackedObjects(
            np.array([9]), np.array([(50.0 + n, 5.0, 60.0 + n, 30.0)]), np.array([0.7]), ("person",)
        )
        published += clips.observe(frame(n), at, objects, events)
    published += clips.close()
    (update,) = [e for e in published if e.clip_sha256]
    assert update.track_id == 9
    assert update.box == (65.0, 5.0, 75.0, 30.0)  # track 9's box at the clip's last frame, 15
