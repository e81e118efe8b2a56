"""Picture health on real footage: frozen, covered and moved cameras, and their recovery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from ingest.frames import CameraStatus, Frame
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
