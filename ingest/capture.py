"""A capture thread per camera that keeps only the newest frame, counts what it drops,
reconnects with back-off when the source goes away, and reports the camera's health: the
source going and coming, and the picture freezing, going dark or moving (PictureHealth).

Files are sampled on a grid of media time at the camera's target fps, so the same file gives
the same frames and the same capture times on every run. A file played "as fast as possible"
waits for the detector to take each sampled frame (nothing is dropped, nothing is stale); a
file at real time and a live stream replace an untaken frame with the newer one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import cv2

from config.cameras import Camera
from ingest.frames import CameraStatus, Frame, HealthObservation
from ingest.health import PictureHealth
from ingest.sources import SourceError, file_path, is_stream, media_fps, open_source

log = logging.getLogger(__name__)

FIRST_RETRY_S = 0.5
MAX_RETRY_S = 10.0
# A camera back from a power cut is watched again within seconds: a stream is retried at least
# this often (a refused connection costs nothing); a missing file may back off longer.
STREAM_MAX_RETRY_S = 1.0


class CameraCapture:
    """Reads one camera in its own thread; the detector calls take() for the newest frame."""

    def __init__(
        self,
        camera: Camera,
        start_time: datetime,
        on_health: Callable[[HealthObservation], None],
        stop_after_s: float | None = None,
    ) -> None:
        self.camera = camera
        self.start_time = camera.start_time or start_time
        self.stream = is_stream(camera.source)
        self.paced_by_detector = not self.stream and not camera.realtime
        self._on_health = on_health
        # Judged here, on every sampled frame, so the analysis thread spends no time on it.
        self._picture = PictureHealth()
        self._stop_after_s = stop_after_s
        self._slot: Frame | None = None
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._finished = False
        self._capture: cv2.VideoCapture | None = None
        self._retry_s = FIRST_RETRY_S  # back-off while the source is away
        self._max_retry_s = STREAM_MAX_RETRY_S if self.stream else MAX_RETRY_S
        self._thread: threading.Thread | None = None
        self._source_status: CameraStatus | None = None  # last said of the source itself
        self.frames_read = 0
        self.frames_dropped = 0

    # -- the detector's side ----------------------------------------------------------------

    def start(self) -> CameraCapture:
        """Open the source and start reading. A file that cannot be read raises SourceError at
        once; a stream that is down is retried in the background (it may come up later)."""
        if not self.stream:
            self._capture = open_source(self.camera.id, self.camera.source)
            self._health(CameraStatus.online, f"reading {file_path(self.camera.source)}")
        self._thread = threading.Thread(
            target=self._read_forever, name=f"capture-{self.camera.id}", daemon=True
        )
        self._thread.start()
        return self

    def take(self, timeout_s: float) -> Frame | None:
        """The newest frame not yet taken, waiting up to timeout_s; None if none came."""
        with self._changed:
            self._changed.wait_for(lambda: self._slot is not None or self._finished, timeout_s)
            frame, self._slot = self._slot, None
            self._changed.notify_all()
            return frame

    @property
    def finished(self) -> bool:
        """The file ended (and does not loop) or the capture was stopped, and all was taken."""
        with self._changed:
            return self._finished and self._slot is None

    def stop(self) -> None:
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)

    # -- the capture thread -----------------------------------------------------------------

    def _read_forever(self) -> None:
        try:
            if self.stream:
                self._read_stream()
            else:
                self._read_file()
        except Exception:
            log.exception("camera %s: capture stopped by an unexpected error", self.camera.id)
        finally:
            if self._capture is not None:
                self._capture.release()
            with self._changed:
                self._finished = True
                self._changed.notify_all()

    def _reopen(self, online_detail: str) -> bool:
        """Open the source once; when it is not there, wait the back-off and say False."""
        try:
            self._capture = open_source(self.camera.id, self.camera.source)
        except SourceError as error:
            log.warning("%s; retrying in %.1f s", error, self._retry_s)
            # A stream down when the worker starts is offline too, not silent: said once.
            if self._source_status is not CameraStatus.offline:
                self._health(CameraStatus.offline, str(error))
            self._stopping.wait(self._retry_s)
            self._retry_s = min(self._retry_s * 2, self._max_retry_s)
            return False
        self._retry_s = FIRST_RETRY_S
        # Judged afresh: a picture still covered after the outage is reported covered again.
        self._picture.source_returned()
        self._health(CameraStatus.online, online_detail)
        return True

    def _read_stream(self) -> None:
        interval = 1.0 / self.camera.target_fps
        last_offered = -interval
        # Frame times of a live stream: the wall clock at the start plus the monotonic clock's
        # progress, so they never go backwards, across reconnects or when the clock is set.
        wall_start, monotonic_start = datetime.now(UTC), time.monotonic()
        while not self._stopping.is_set():
            if self._capture is None and not self._reopen(f"connected to {self.camera.source}"):
                continue
            ok, image = self._capture.read()
            if not ok:
                self._capture.release()
                self._capture = None
                self._health(CameraStatus.offline, f"{self.camera.source} stopped sending")
                continue
            self.frames_read += 1
            now = time.monotonic()
            if now - last_offered >= interval:
                last_offered = now
                self._offer(image, wall_start + timedelta(seconds=now - monotonic_start))

    def _read_file(self) -> None:
        assert self._capture is not None
        fps = media_fps(self._capture, self.camera.id, self.camera.source)
        interval = 1.0 / self.camera.target_fps
        played_before = 0  # frames of earlier loops, so times keep rising across loops
        in_file = 0
        next_sample_s = 0.0
        wall_start = time.monotonic()
        while not self._stopping.is_set():
            # The file went away while looping: wait for it to come back.
            if self._capture is None and not self._reopen("the video file is readable again"):
                continue
            if not self._capture.grab():
                if not self.camera.loop:
                    return
                played_before += in_file
                in_file = 0
                self._capture.release()
                self._capture = None
                try:
                    self._capture = open_source(self.camera.id, self.camera.source)
                except SourceError as error:
                    self._health(CameraStatus.offline, str(error))
                continue
            position_s = (played_before + in_file) / fps
            in_file += 1
            self.frames_read += 1
            if self._stop_after_s is not None and position_s >= self._stop_after_s:
                return
            if position_s + 1e-9 < next_sample_s:
                continue  # between samples: grabbed, never decoded
            while next_sample_s <= position_s + 1e-9:
                next_sample_s += interval
            ok, image = self._capture.retrieve()
            if not ok:
                continue
            if self.camera.realtime:
                self._stopping.wait(max(0.0, wall_start + position_s - time.monotonic()))
            self._offer(image, self.start_time + timedelta(seconds=position_s))

    def _offer(self, image: object, captured_at: datetime) -> None:
        frame = Frame(self.camera.id, image, captured_at, self.frames_read - 1)  # type: ignore[arg-type]
        observation = self._picture.observe(frame)
        if observation is not None:
            self._on_health(observation)
        with self._changed:
            if self.paced_by_detector:
                self._changed.wait_for(lambda: self._slot is None or self._stopping.is_set())
            elif self._slot is not None:
                self.frames_dropped += 1
            self._slot = frame
            self._changed.notify_all()

    def _health(self, status: CameraStatus, detail: str) -> None:
        self._source_status = status
        self._on_health(HealthObservation(self.camera.id, status, datetime.now(UTC), detail))
