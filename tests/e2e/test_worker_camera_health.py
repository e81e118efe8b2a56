"""Camera health end to end: footage made from vtest.avi with a frozen stretch, black frames and
a shifted view, read by the real worker with the real model, gives frozen, blacked_out (the
lens covered) and moved on `camera-health`, each followed by online, at the frames that cause
them.

The footage is written at 1 fps and read at 1 fps, so every frame is judged; frame i is at
START + i s. The states change where ingest/health.py says they must:
- frozen: the same picture from frame 4 on for FROZEN_AFTER (10 s), at frame 14;
- blacked_out: the first black frame; moved: the MOVED_FRAMES-th (5th) shifted frame;
- online: the first normal frame after each.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import cv2
import jsonschema
import numpy as np
import pytest

from config.cameras import Camera
from config.detector import Detector
from config.metrics import Metrics
from config.site import SiteConfig, SiteInfo
from ingest.health import FROZEN_AFTER, MOVED_FRAMES
from streams.topics import CAMERA_HEALTH
from streams.worker.worker import Worker
from tests.e2e.worker_support import camera_sample, frames_processed, read_topic, schema

pytestmark = pytest.mark.e2e

CAMERA = "quay-cam-7"
START = datetime.fromisoformat("2026-03-14T02:00:00+01:00")
FPS = 1
NORMAL_FRAMES = 3  # people walking between the stretches
FROZEN_FRAMES = 12  # 12 s of one picture: more than FROZEN_AFTER
BLACK_FRAMES = 2
SHIFTED_FRAMES = 6  # more than MOVED_FRAMES
SHIFT_PX = 60  # 8% of the width: the camera was knocked sideways


def manipulated_footage(vtest: Path, out: Path) -> tuple[Path, list[tuple[str, int]]]:
    """vtest at 1 fps (every 10th frame) with the stretches spliced in; returns the video and
    the (status, frame index) changes it must give."""
    capture = cv2.VideoCapture(str(vtest))
    walking = [capture.read()[1] for _ in range(200)][::10]  # 20 pictures, 1 s apart
    capture.release()
    normal = iter(walking)

    def take(count: int) -> list[np.ndarray]:
        return [next(normal) for _ in range(count)]

    frames: list[np.ndarray] = []
    changes: list[tuple[str, int]] = []
    frames += take(NORMAL_FRAMES)
    still = take(1)[0]
    frozen_from = len(frames) + 1  # the first frame equal to the one before
    frames += [still] * FROZEN_FRAMES
    changes.append(("frozen", frozen_from + int(FROZEN_AFTER.total_seconds() * FPS)))
    changes.append(("online", len(frames)))
    frames += take(NORMAL_FRAMES)
    changes.append(("blacked_out", len(frames)))
    frames += [np.zeros_like(still)] * BLACK_FRAMES
    changes.append(("online", len(frames)))
    frames += take(NORMAL_FRAMES)
    shifted = [np.roll(picture, SHIFT_PX, axis=1) for picture in take(SHIFTED_FRAMES)]
    changes.append(("moved", len(frames) + MOVED_FRAMES - 1))
    frames += shifted
    changes.append(("online", len(frames)))
    frames += take(NORMAL_FRAMES)

    path = out / "quay-cam-7-manipulated.avi"
    height, width = still.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (width, height))
    for picture in frames:
        writer.write(picture)
    writer.release()
    return path, changes


def test_frozen_covered_and_moved_pictures_each_reported_then_back_online(
    kafka_settings, tmp_path, model_onnx_path, footage_path
):
    video, changes = manipulated_footage(footage_path, tmp_path)
    site = SiteConfig(
        site=SiteInfo(id="rtm-health"),
        data_dir=tmp_path / "data",
        detector=Detector(model=str(model_onnx_path)),
        cameras=[
            Camera(id=CAMERA, source=str(video), target_fps=FPS, realtime=False, start_time=START)
        ],
        kafka=kafka_settings,
        metrics=Metrics(worker_port=0),
    )
    worker = Worker(site)
    assert worker.run() == 0
    worker.publisher.close()

    health = [m for m in read_topic(kafka_settings, CAMERA_HEALTH) if m["camera_id"] == CAMERA]
    for message in health:
        jsonschema.validate(message, schema("camera-health"))
    assert health[0]["status"] == "online" and health[0]["detail"] == f"reading {video}"
    seen = [(m["status"], datetime.fromisoformat(m["event_time"])) for m in health[1:]]
    expected = [(status, START + timedelta(seconds=index / FPS)) for status, index in changes]
    assert seen == expected
    details = {m["status"]: m["detail"] for m in health[1:]}
    assert details["frozen"].startswith("picture unchanged since ")
    assert details["blacked_out"].startswith("lens covered or picture blacked out")
    assert details["moved"] == f"view shifted by {SHIFT_PX / 768:.0%} of its width"
    assert len({m["event_id"] for m in health}) == len(health)

    # Every frame was analysed by the model's pipeline, and the camera ends online.
    stretches = FROZEN_FRAMES + BLACK_FRAMES + SHIFTED_FRAMES
    assert frames_processed(worker, CAMERA) == 4 * NORMAL_FRAMES + stretches
    assert camera_sample(worker, "quaywatch_worker_camera_online", CAMERA) == 1
