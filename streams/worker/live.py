"""The live view: each camera's latest annotated frame, about once a second, as a JPEG under
the data directory, which the console serves behind its login.

Why a file and not an endpoint on the worker: the console already reads evidence from the
data directory and already has the login, the roles and TLS; an endpoint on the worker would
need all of those again, on every worker, and a way for the console to find the workers. One
small file per camera, replaced atomically, costs a write a second and leaves the worker
without an open port for pictures of the terminal.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

LIVE_DIR = "live"
LIVE_INTERVAL_S = 1.0
LIVE_JPEG_QUALITY = 70


def live_frame_path(data_dir: Path, camera_id: str) -> Path:
    """Where the worker keeps `camera_id`'s latest frame (camera ids are config identifiers)."""
    return Path(data_dir) / LIVE_DIR / f"{camera_id}.jpg"


class LiveView:
    """Writes a camera's frame at most once per `interval_s` of wall-clock time."""

    def __init__(
        self,
        data_dir: Path,
        camera_id: str,
        interval_s: float = LIVE_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = live_frame_path(data_dir, camera_id)
        self.interval_s = interval_s
        self._clock = clock
        self._last_write: float | None = None
        self.problem: str | None = None  # the last write's error, for the log once

    def offer(self, annotated: np.ndarray) -> bool:
        """Write `annotated` if the last write is `interval_s` old; True when written."""
        now = self._clock()
        if self._last_write is not None and now - self._last_write < self.interval_s:
            return False
        self._last_write = now
        ok, encoded = cv2.imencode(".jpg", annotated, [cv2.IMWRITE_JPEG_QUALITY, LIVE_JPEG_QUALITY])
        if not ok:
            self.problem = f"cannot encode a {annotated.shape} frame as JPEG"
            return False
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.partial")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(encoded.tobytes())
            partial.replace(self.path)  # atomic: the console never serves half a frame
        except OSError as error:
            self.problem = f"cannot write the live frame {self.path}: {error}"
            return False
        self.problem = None
        return True
