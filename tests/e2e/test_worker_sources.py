"""The worker with troublesome sources: a camera that loses power and comes back, a missing
video file and a file that is not a video, next to a healthy camera that keeps working."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from pathlib import Path

import cv2
import jsonschema
import pytest

from config.cameras import Camera
from config.detector import Detector
from config.kafka import Kafka
from config.metrics import Metrics
from config.site import SiteConfig, SiteInfo
from streams.topics import CAMERA_HEALTH
from streams.worker.worker import Worker
from tests.e2e.worker_support import (
    MjpegCamera,
    camera_sample,
    frames_processed,
    read_topic,
    schema,
    wait_for,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def vtest_pictures(footage_path: Path) -> list:
    capture = cv2.VideoCapture(str(footage_path))
    pictures = [capture.read()[1] for _ in range(40)][::4]
    capture.release()
    return pictures


def site_with(cameras: list[Camera], kafka: Kafka, data_dir: Path, model: Path) -> SiteConfig:
    return SiteConfig(
        site=SiteInfo(id="rtm-test"),
        data_dir=data_dir,
        detector=Detector(model=str(model)),
        cameras=cameras,
        kafka=kafka,
        metrics=Metrics(worker_port=0),
    )


def test_camera_that_goes_away_is_offline_then_online_and_frames_flow_again(
    kafka_settings, tmp_path, model_onnx_path, vtest_pictures
):
    mjpeg = MjpegCamera(vtest_pictures).start()
    camera = Camera(id="gate-mjpeg", source=mjpeg.url, target_fps=2)
    worker = Worker(site_with([camera], kafka_settings, tmp_path, model_onnx_path))

    def processed() -> float:
        return frames_processed(worker, "gate-mjpeg")

    def online() -> float | None:
        return camera_sample(worker, "quaywatch_worker_camera_online", "gate-mjpeg")

    runner = threading.Thread(target=worker.run, daemon=True)
    runner.start()
    try:
        wait_for(lambda: processed() >= 3, 60, "frames from the MJPEG camera")
        mjpeg.stop()
        wait_for(lambda: online() == 0, 30, "the camera to be reported offline")
        time.sleep(2)  # it stays away a while; the worker retries with back-off
        before = processed()
        mjpeg.start()
        wait_for(lambda: online() == 1, 30, "the camera to be reported online again")
        wait_for(lambda: processed() >= before + 3, 60, "frames to flow again")
    finally:
        worker.stop()
        mjpeg.stop()
        runner.join(timeout=60)
        worker.publisher.close()
    health = [
        m for m in read_topic(kafka_settings, CAMERA_HEALTH) if m["camera_id"] == "gate-mjpeg"
    ]
    for message in health:
        jsonschema.validate(message, schema("camera-health"))
    statuses = [message["status"] for message in health]
    assert statuses[:3] == ["online", "offline", "online"], statuses
    assert len({message["event_id"] for message in health}) == len(health)


def test_missing_and_non_video_files_are_reported_and_the_other_camera_keeps_running(
    kafka_settings, tmp_path, model_onnx_path, footage_path, caplog
):
    not_a_video = tmp_path / "quay-cam-9.avi"
    not_a_video.write_text("this is a shift roster, not a video\n" * 100)
    missing = tmp_path / "gone" / "quay-cam-8.avi"
    cameras = [
        Camera(id="quay-cam-8", source=str(missing), realtime=False),
        Camera(id="quay-cam-9", source=str(not_a_video), realtime=False),
        Camera(
            id="quay-cam-1",
            source=str(footage_path),
            realtime=False,
            target_fps=2,
            start_time=datetime.fromisoformat("2026-03-14T02:00:00+01:00"),
        ),
    ]
    worker = Worker(site_with(cameras, kafka_settings, tmp_path, model_onnx_path), stop_after_s=5)
    with caplog.at_level(logging.ERROR, logger="streams.worker"):
        exit_code = worker.run()
    worker.publisher.close()

    assert exit_code == 1
    errors = "\n".join(record.getMessage() for record in caplog.records)
    assert f"camera quay-cam-8: video file {missing} does not exist" in errors
    assert f"camera quay-cam-9: {not_a_video} is not a video OpenCV can decode" in errors
    # 5 s of media at 2 fps, every sampled frame analysed
    assert frames_processed(worker, "quay-cam-1") == 10
    health = {m["camera_id"]: m for m in read_topic(kafka_settings, CAMERA_HEALTH)}
    assert health["quay-cam-8"]["status"] == "offline"
    assert "does not exist" in health["quay-cam-8"]["detail"]
    assert health["quay-cam-9"]["status"] == "offline"
    assert health["quay-cam-1"]["status"] == "online"
