"""Opening camera sources with OpenCV: video files, RTSP and HTTP streams, with errors that say
which camera, which source and what is wrong."""

from __future__ import annotations

import re
from pathlib import Path

import cv2

# A source with a scheme is a stream; anything else is a file path.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# A stream that does not answer must not hang the capture thread: FFmpeg's own default is
# to wait for ever on a dead RTSP/HTTP server.
OPEN_TIMEOUT_MS = 5000
READ_TIMEOUT_MS = 5000


class SourceError(RuntimeError):
    """A camera source cannot be opened or read."""


def is_stream(source: str) -> bool:
    return bool(_URL.match(source)) and not source.startswith("file://")


def file_path(source: str) -> Path:
    return Path(source.removeprefix("file://"))


def open_source(camera_id: str, source: str) -> cv2.VideoCapture:
    """An opened capture whose first frame can be read (and is read again from the start)."""
    if is_stream(source):
        capture = cv2.VideoCapture(
            source,
            cv2.CAP_FFMPEG,
            [
                cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                OPEN_TIMEOUT_MS,
                cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                READ_TIMEOUT_MS,
            ],
        )
        if not capture.isOpened():
            raise SourceError(f"camera {camera_id}: stream {source} does not answer")
        return capture
    path = file_path(source)
    if not path.exists():
        raise SourceError(f"camera {camera_id}: video file {path} does not exist")
    if not path.is_file():
        raise SourceError(f"camera {camera_id}: video file {path} is not a file")
    capture = cv2.VideoCapture(str(path))
    readable = capture.isOpened() and capture.grab()
    if not readable:
        capture.release()
        raise SourceError(
            f"camera {camera_id}: {path} is not a video OpenCV can decode "
            f"({path.stat().st_size} bytes, no readable video stream)"
        )
    capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
    return capture


def media_fps(capture: cv2.VideoCapture, camera_id: str, source: str) -> float:
    """Frames per second a file says it has; its frame times are derived from it."""
    fps = capture.get(cv2.CAP_PROP_FPS)
    if not fps or fps <= 0 or fps > 1000:
        raise SourceError(f"camera {camera_id}: {source} gives no usable frame rate ({fps})")
    return float(fps)
