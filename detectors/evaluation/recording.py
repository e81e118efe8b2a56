"""What a tune run writes besides its figures: the annotated video and the key frames of
its contact sheet."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from detectors.annotate import contact_sheet, thumbnail


class VideoSink:
    """Annotated frames to an MP4 file (MPEG-4 part 2, which every OpenCV build can write)."""

    def __init__(self, path: Path, fps: float) -> None:
        self.path = path
        self.fps = fps
        self._writer: cv2.VideoWriter | None = None
        self.frames_written = 0

    def write(self, canvas: np.ndarray) -> None:
        if self._writer is None:
            height, width = canvas.shape[:2]
            self._writer = cv2.VideoWriter(
                str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (width, height)
            )
            if not self._writer.isOpened():
                raise OSError(f"cannot write video {self.path} ({width}x{height}, mp4v)")
        self._writer.write(canvas)
        self.frames_written += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()


class KeyFrames:
    """Picks the frames of the contact sheet: those where a rule fired first, then frames
    spread evenly over the run, so a quiet run still shows what the camera saw."""

    def __init__(self, expected_frames: int, count: int = 12, thumb_width: int = 384) -> None:
        self.count = count
        self.thumb_width = thumb_width
        self._stride = max(1, expected_frames // count)
        self._firing: list[tuple[int, np.ndarray]] = []
        self._spread: list[tuple[int, np.ndarray]] = []
        self._seen = 0

    def offer(self, frame_number: int, canvas: np.ndarray, fired: bool) -> None:
        self._seen += 1
        if fired and len(self._firing) < self.count:
            self._firing.append((frame_number, thumbnail(canvas, self.thumb_width)))
        elif (self._seen - 1) % self._stride == 0:
            self._spread.append((frame_number, thumbnail(canvas, self.thumb_width)))

    def sheet(self, columns: int = 4) -> np.ndarray | None:
        """The chosen frames in frame order; None when the run analysed no frame."""
        chosen = self._firing[: self.count]
        room = self.count - len(chosen)
        if room > 0 and self._spread:
            step = max(1, len(self._spread) // room)
            chosen += self._spread[::step][:room]
        if not chosen:
            return None
        in_order = sorted(chosen, key=lambda item: item[0])
        return contact_sheet([thumb for _, thumb in in_order], columns)
