"""Helpers of the worker end-to-end tests: reading topics and metrics back, waiting for a
running worker, and a loopback MJPEG camera that can be switched off and on."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from config.kafka import Kafka
from streams.broker.embedded import free_port
from streams.kafka import consumer
from streams.topics import Topic
from streams.worker.worker import Worker

SCHEMAS = Path(__file__).resolve().parents[2] / "streams" / "schemas"


def read_topic(kafka: Kafka, topic: Topic[Any], idle_s: float = 3.0) -> list[dict]:
    """Every message on a topic from the beginning, once nothing new came for idle_s."""
    reader = consumer(kafka, None, [topic], consumer_timeout_ms=int(idle_s * 1000))
    try:
        return [json.loads(record.value) for record in reader]
    finally:
        reader.close()


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.v1.json").read_text())


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll a running worker until condition() holds; fail saying what never happened."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"waited {timeout_s:.0f} s for {what}")


def camera_sample(worker: Worker, metric: str, camera_id: str) -> float | None:
    """The worker's current value of a per-camera metric; None before the camera reported it."""
    return worker.metrics.registry.get_sample_value(metric, {"camera": camera_id})


def frames_processed(worker: Worker, camera_id: str) -> float:
    """Frames of the camera the worker has analysed so far."""
    return camera_sample(worker, "quaywatch_worker_frames_processed_total", camera_id) or 0


class MjpegCamera:
    """An HTTP MJPEG camera on loopback that serves `pictures` in turn at `fps`; stop() closes
    its connections as a camera losing power would, start() brings it back on the same port."""

    def __init__(self, pictures: Iterable[np.ndarray], fps: float = 10.0) -> None:
        self.jpegs = [cv2.imencode(".jpg", picture)[1].tobytes() for picture in pictures]
        self.fps = fps
        self.port = free_port()
        self._serving = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/video.mjpg"

    def start(self) -> MjpegCamera:
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                index = 0
                try:
                    while camera._serving.is_set():
                        jpeg = camera.jpegs[index % len(camera.jpegs)]
                        self.wfile.write(
                            b"--frame\r\nContent-Type: image/jpeg\r\n"
                            + f"Content-Length: {len(jpeg)}\r\n\r\n".encode()
                            + jpeg
                            + b"\r\n"
                        )
                        index += 1
                        time.sleep(1 / camera.fps)
                except OSError:
                    pass  # the client went away

            def log_message(self, *args: object) -> None:
                pass

        self._serving.set()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._serving.clear()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
