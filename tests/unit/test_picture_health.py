"""Picture health on real footage: frozen, covered and moved cameras, and their recovery, and
the capture reporting it as it reads a file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from config.cameras import Camera
from ingest.capture import CameraCapture
from ingest.frames import CameraStatus, Frame, HealthObservation
from ingest.health import FROZEN_AFTER, PictureHealth

T0 = datetime(2026, 3, 14, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def vtest_frames(footage_path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(footage_path))
    frames = [capture.read()[1] for _ in range(60)]
    capture.release()
    return frames[::2]


def feed(health: PictureHealth, images, start_s: float = 0.0, step_s: float = 0.2):
    statuses = []
    for index, image in enumerate(images):
        at = T0 + timedelta(seconds=start_s + index * step_s)
        observation = health.observe(Frame("cam", image, at, index))
        if observation is not None:
            statuses.append(observation.status)
    return statuses


def test_moving_footage_is_healthy(vtest_frames):
    assert feed(PictureHealth(), vtest_frames) == []


def test_same_picture_for_long_is_frozen_then_recovers(vtest_frames):
    health = PictureHealth()
    still = [vtest_frames[0]] * int(FROZEN_AFTER.total_seconds() / 0.2 + 5)
    assert feed(health, still) == [CameraStatus.frozen]
    assert feed(health, vtest_frames[1:], start_s=100) == [CameraStatus.online]


def test_covered_lens_is_blacked_out(vtest_frames):
    health = PictureHealth()
    covered = np.full_like(vtest_frames[0], 8)
    statuses = feed(health, vtest_frames[:3] + [covered] * 3 + vtest_frames[3:6])
    assert statuses == [CameraStatus.blacked_out, CameraStatus.online]


def test_turned_camera_is_moved_until_it_looks_back(vtest_frames):
    health = PictureHealth()
    turned = [np.roll(image, 60, axis=1) for image in vtest_frames[5:15]]
    statuses = feed(health, vtest_frames[:5] + turned + vtest_frames[15:20])
    assert statuses == [CameraStatus.moved, CameraStatus.online]


def test_capture_reports_a_covered_lens_as_it_reads_the_file(vtest_frames, tmp_path):
    covered = np.full_like(vtest_frames[0], 8)
    pictures = vtest_frames[:5] + [covered] * 3 + vtest_frames[5:10]
    path = tmp_path / "quay-cam-1.avi"
    height, width = pictures[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5, (width, height))
    for picture in pictures:
        writer.write(picture)
    writer.release()
    camera = Camera(id="quay-cam-1", source=str(path), target_fps=5, realtime=False)
    observations: list[HealthObservation] = []
    capture = CameraCapture(camera, T0, observations.append).start()
    taken = []
    while not capture.finished:
        frame = capture.take(timeout_s=1.0)
        if frame is not None:
            taken.append(frame)
    capture.stop()

    assert len(taken) == len(pictures)
    assert [o.status for o in observations] == [
        CameraStatus.online,  # the file opened
        CameraStatus.blacked_out,
        CameraStatus.online,
    ]
    # picture changes carry the media time of the frame that showed them
    assert [o.at for o in observations[1:]] == [
        T0 + timedelta(seconds=1.0),
        T0 + timedelta(seconds=1.6),
    ]


def test_a_picture_still_covered_after_an_outage_is_reported_covered_again(vtest_frames):
    """The capture says online when the source returns; the picture is then judged afresh."""
    health = PictureHealth()
    covered = np.full_like(vtest_frames[0], 8)
    assert feed(health, vtest_frames[:3] + [covered] * 2) == [CameraStatus.blacked_out]
    health.source_returned()
    assert feed(health, [covered] * 2 + vtest_frames[3:5], start_s=30) == [
        CameraStatus.blacked_out,
        CameraStatus.online,
    ]
