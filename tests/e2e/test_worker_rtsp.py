"""The worker on a real RTSP camera (GStreamer's RTSP server streaming vtest.avi on loopback)
that loses power and comes back: offline on `camera-health`, online again with frames analysed
by the real model within 5 s of the server's restart, and frame times that never go backwards.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import jsonschema
import pytest

from config.cameras import Camera
from config.detector import Detector
from config.kafka import Kafka
from config.metrics import Metrics
from config.site import SiteConfig, SiteInfo
from config.zones import Zone
from ingest.capture import CameraCapture
from ingest.frames import CameraStatus, Frame, HealthObservation
from ingest.sources import open_source
from streams.topics import ACCESS, CAMERA_HEALTH
from streams.worker.worker import Worker
from tests.e2e.worker_support import (
    camera_sample,
    frames_processed,
    read_topic,
    schema,
    wait_for,
)
from tests.fixtures.rtsp import RtspCamera

pytestmark = pytest.mark.e2e

CAMERA = "quay-rtsp-1"
BACK_WITHIN = timedelta(seconds=5)  # the bound from the server's restart


def rtsp_site(url: str, kafka: Kafka, data_dir: Path, model: Path) -> SiteConfig:
    """One RTSP camera whose whole picture is a zone, so people walking raise access events."""
    return SiteConfig(
        site=SiteInfo(id="rtm-rtsp"),
        data_dir=data_dir,
        detector=Detector(model=str(model)),
        cameras=[Camera(id=CAMERA, source=url, target_fps=2)],
        zones=[
            Zone(
                id="quay-apron",
                camera=CAMERA,
                polygon=[(0, 0), (768, 0), (768, 576), (0, 576)],
                yard_blocks=["Q1"],
            )
        ],
        kafka=kafka,
        metrics=Metrics(worker_port=0),
    )


def test_rtsp_camera_restarted_is_offline_then_back_online_with_frames_within_5_s(
    kafka_settings, tmp_path, model_onnx_path, footage_path
):
    rtsp = RtspCamera(footage_path).start()
    worker = Worker(rtsp_site(rtsp.url, kafka_settings, tmp_path, model_onnx_path))

    def processed() -> float:
        return frames_processed(worker, CAMERA)

    def online() -> float | None:
        return camera_sample(worker, "quaywatch_worker_camera_online", CAMERA)

    runner = threading.Thread(target=worker.run, daemon=True)
    runner.start()
    try:
        wait_for(lambda: processed() >= 3, 120, "frames from the RTSP camera")
        rtsp.stop()
        wait_for(lambda: online() == 0, 30, "the camera to be reported offline")
        time.sleep(1.5)  # it stays away a while; the worker retries meanwhile
        before = processed()
        rtsp.start()
        restarted_at, restarted = datetime.now(UTC), time.monotonic()
        wait_for(lambda: processed() > before, 60, "frames analysed after the restart")
        frames_back_s = time.monotonic() - restarted
        wait_for(lambda: processed() >= before + 4, 60, "frames to keep flowing")
    finally:
        worker.stop()
        runner.join(timeout=60)
        worker.publisher.close()
        rtsp.stop()

    health = [m for m in read_topic(kafka_settings, CAMERA_HEALTH) if m["camera_id"] == CAMERA]
    for message in health:
        jsonschema.validate(message, schema("camera-health"))
    statuses = [message["status"] for message in health]
    assert statuses == ["online", "offline", "online"], health
    back_online = datetime.fromisoformat(health[2]["event_time"])
    assert restarted_at <= back_online <= restarted_at + BACK_WITHIN, (restarted_at, health[2])
    assert frames_back_s <= BACK_WITHIN.total_seconds(), frames_back_s

    # The frame times of the events each frame raised (in the order the worker published
    # them) never go backwards across the outage, and the restarted stream's frames were
    # analysed into events (a few frames: often only the update or end of an incident
    # begun before the outage).
    access = [m for m in read_topic(kafka_settings, ACCESS) if m["camera_id"] == CAMERA]
    times = [datetime.fromisoformat(m["event_time"]) for m in raised_on_their_frames(access)]
    assert times == sorted(times), times
    published = [datetime.fromisoformat(m["event_time"]) for m in access]
    assert any(at > back_online for at in published), published


def raised_on_their_frames(access: list[dict]) -> list[dict]:
    """Access events as published, less each clip's update and the ends held back for it:
    those go out when the clip is written (detectors/clips.py), after the events of the
    frames analysed meanwhile, and carry the time of an earlier frame."""
    raised, clip_of = [], None
    for message in access:
        if message.get("clip_sha256"):
            clip_of = message["incident_id"]
        elif message["phase"] == "end" and message["incident_id"] == clip_of:
            pass  # held for the clip just written
        else:
            clip_of = None
            raised.append(message)
    return raised


def test_rtsp_capture_frame_times_rise_across_a_restart(footage_path):
    """Every frame the capture delivers, before and after the server's restart: times strictly
    rising, sequence numbers rising, and the outage reported offline then online."""
    observations: list[HealthObservation] = []
    frames: list[Frame] = []
    with RtspCamera(footage_path) as rtsp:
        capture = CameraCapture(
            Camera(id=CAMERA, source=rtsp.url, target_fps=5),
            datetime.now(UTC),
            observations.append,
        ).start()
        try:

            def take_until(count: int) -> None:
                deadline = time.monotonic() + 60
                while len(frames) < count and time.monotonic() < deadline:
                    frame = capture.take(timeout_s=0.5)
                    if frame is not None:
                        frames.append(frame)

            take_until(5)
            rtsp.stop()
            wait_for(
                lambda: [o.status for o in observations][-1:] == [CameraStatus.offline],
                30,
                "the capture to report the camera offline",
            )
            while capture.take(timeout_s=0.1) is not None:
                pass  # the last frame before the outage, if one waited
            rtsp.start()
            take_until(10)
        finally:
            capture.stop()

    assert len(frames) >= 10
    assert [o.status for o in observations] == [
        CameraStatus.online,
        CameraStatus.offline,
        CameraStatus.online,
    ]
    times = [frame.captured_at for frame in frames]
    assert all(a < b for a, b in zip(times, times[1:], strict=False)), times
    sequences = [frame.sequence for frame in frames]
    assert all(a < b for a, b in zip(sequences, sequences[1:], strict=False)), sequences
    assert frames[-1].image.shape == (576, 768, 3)


def test_rtsp_camera_that_hangs_is_offline_then_back_online_when_it_sends_again(footage_path):
    """A server that keeps its connections open and sends nothing (a locked-up encoder): the
    read times out instead of hanging the capture, and the camera is read again afterwards."""
    observations: list[HealthObservation] = []
    with RtspCamera(footage_path) as rtsp:
        capture = CameraCapture(
            Camera(id=CAMERA, source=rtsp.url, target_fps=5),
            datetime.now(UTC),
            observations.append,
        ).start()
        try:
            wait_for(lambda: capture.take(timeout_s=0.5) is not None, 60, "a first frame")
            rtsp.hang()
            wait_for(
                lambda: [o.status for o in observations][-1:] == [CameraStatus.offline],
                60,
                "the hung camera to be reported offline",
            )
            rtsp.resume()
            wait_for(
                lambda: [o.status for o in observations][-1:] == [CameraStatus.online],
                60,
                "the camera to be reported online again",
            )
            wait_for(lambda: capture.take(timeout_s=0.5) is not None, 60, "frames again")
        finally:
            capture.stop()
    assert [o.status for o in observations] == [
        CameraStatus.online,
        CameraStatus.offline,
        CameraStatus.online,
    ]
    assert observations[1].detail.endswith("stopped sending")


def test_rtsp_camera_down_when_the_capture_starts_is_offline_until_it_comes_up(footage_path):
    """A camera nobody can reach at start-up is reported offline (so its alert can fire), once,
    however often it is retried, and online when it starts serving."""
    observations: list[HealthObservation] = []
    rtsp = RtspCamera(footage_path)  # its port, nothing listening yet
    capture = CameraCapture(
        Camera(id=CAMERA, source=rtsp.url, target_fps=5), datetime.now(UTC), observations.append
    ).start()
    try:
        wait_for(lambda: observations, 30, "the camera to be reported")
        time.sleep(2.5)  # retried meanwhile, every second at most
        rtsp.start()
        wait_for(lambda: capture.take(timeout_s=0.5) is not None, 60, "frames once it serves")
    finally:
        capture.stop()
        rtsp.stop()
    assert [o.status for o in observations] == [CameraStatus.offline, CameraStatus.online]
    assert observations[0].detail == f"camera {CAMERA}: stream {rtsp.url} does not answer"


def test_rtsp_camera_starts_its_file_over_at_the_end(footage_path, tmp_path):
    """The test camera does not end with its file (vtest.avi lasts 80 s; a test on a busy
    machine may watch longer): a 2-s clip gives frames for three times as long."""
    capture = cv2.VideoCapture(str(footage_path))
    clip = tmp_path / "two-seconds.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10, (768, 576))
    for _ in range(20):
        writer.write(capture.read()[1])
    writer.release()
    capture.release()
    with RtspCamera(clip) as rtsp:
        stream = open_source(CAMERA, rtsp.url)
        try:
            started = time.monotonic()
            while time.monotonic() - started < 6:
                ok, picture = stream.read()
                assert ok, f"the stream ended after {time.monotonic() - started:.1f} s"
        finally:
            stream.release()
    assert picture.shape == (576, 768, 3)
