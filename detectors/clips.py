"""Evidence clips: a few seconds of annotated video around the start of each access incident,
kept under their own SHA-256 like the snapshots, so the access event that names a clip (and
with it the audit chain) vouches for the file.

The clip is WebM with VP8: the OpenCV build here has no H.264 encoder ('avc1' does not open),
its 'mp4v' output (MPEG-4 Part 2) is not a codec Chromium plays, and VP8 is written by
OpenCV's own FFmpeg and played by every browser a control room uses. Each clip prints
"OpenCV: FFMPEG: tag 'VP80' is not supported with codec id 139 and format 'webm'": a plain
fprintf in OpenCV's writer (no log level or OPENCV_FFMPEG_* setting reaches it), made for any
fourcc but WebM's one tag, 0xFFFFFFFF, which is -1: the value OpenCV reads as "list the codecs
and fail". The clip is VP8 in WebM all the same. Matroska ('.mkv') takes 'VP80' silently, but
WebM is the subset of it every browser plays, so the line stays.
Encoding costs about 0.1 s of CPU a frame at 768x576 on a busy machine, on its own thread.

A clip needs the seconds after the start, so it cannot ride on the start event: the start goes
out at once (an alert must not wait for its video) and the clip is named by an extra `update`
of the incident, sent when the clip is written. An incident that ends sooner has its end held
back until then, so the clip's update never follows the end.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

from detectors.events import AccessPhase, TrackedObjects, ZoneEvent

CLIP_BEFORE = timedelta(seconds=3)
CLIP_AFTER = timedelta(seconds=3)
MIN_CLIP_FPS = 0.5
CLIP_FOURCC = "VP80"
CLIP_SUFFIX = ".webm"
CLIP_MEDIA_TYPE = "video/webm"


class ClipError(RuntimeError):
    """A clip could not be encoded or written."""


class ClipStore:
    """Writes clips as `<root>/<sha256>.webm`; the same video twice is one file."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_of(self, sha256: str) -> Path:
        return self.root / f"{sha256}{CLIP_SUFFIX}"

    def keep(self, frames: Sequence[np.ndarray], fps: float) -> str:
        """Encode `frames` (BGR, one size) as a WebM clip, store it, and return its SHA-256."""
        if not frames:
            raise ClipError("a clip needs at least one frame")
        height, width = frames[0].shape[:2]
        self.root.mkdir(parents=True, exist_ok=True)
        # The writer picks the container by the file name, so the partial file ends in .webm.
        handle, partial_name = tempfile.mkstemp(suffix=CLIP_SUFFIX, dir=self.root, prefix=".")
        os.close(handle)
        partial = Path(partial_name)
        try:
            writer = cv2.VideoWriter(
                str(partial), cv2.VideoWriter_fourcc(*CLIP_FOURCC), fps, (width, height)
            )
            if not writer.isOpened():
                raise ClipError(f"cannot open a {CLIP_FOURCC} writer for {width}x{height}")
            for frame in frames:
                writer.write(frame)
            writer.release()
            video = partial.read_bytes()
            if not video:
                raise ClipError(f"the {CLIP_FOURCC} writer wrote nothing for {len(frames)} frames")
            sha256 = hashlib.sha256(video).hexdigest()
            partial.replace(self.path_of(sha256))  # atomic: the console never serves half a clip
            return sha256
        except OSError as error:
            raise ClipError(f"cannot write clip under {self.root}: {error}") from error
        finally:
            partial.unlink(missing_ok=True)


@dataclass
class _ClipInMaking:
    start: ZoneEvent
    frames: list[np.ndarray]
    until: datetime
    last_box: tuple[float, float, float, float]
    last_score: float
    last_at: datetime
    first_at: datetime
    track_id: int  # the incident's track now: a lost person found again carries it on
    held_ends: list[ZoneEvent] = field(default_factory=list)
    encoding: Future[str] | None = None


class IncidentClips:
    """Cuts one camera's clips from its stream of annotated frames and zone events.

    `observe` takes each frame with the events raised on it and returns the events to publish
    now: the same events, less the ends held for a clip still being made, plus an update
    naming each clip that is now written (followed by the ends held for it). Encoding runs on
    one background thread, so the camera's analysis never waits for it.
    """

    def __init__(
        self,
        store: ClipStore,
        fps: float,
        before: timedelta = CLIP_BEFORE,
        after: timedelta = CLIP_AFTER,
    ) -> None:
        self.store = store
        self.fps = fps
        self.before = before
        self.after = after
        self._recent: deque[tuple[datetime, np.ndarray]] = deque()
        self._making: dict[str, _ClipInMaking] = {}  # by incident id
        self._encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clip-encoder")
        self.failures: list[str] = []
        # A clip never holds more than its two windows' worth of frames, whatever the clock does.
        self._most_frames = round((before + after).total_seconds() * fps) + 2

    def observe(
        self,
        image: np.ndarray,
        at: datetime,
        objects: TrackedObjects,
        events: Sequence[ZoneEvent],
    ) -> list[ZoneEvent]:
        self._recent.append((at, image))
        # Bounded by count as well as by time: a source whose clock steps back (a file played
        # again) must not make the buffer grow.
        most = max(1, round(self.before.total_seconds() * self.fps)) + 1
        while self._recent and (at - self._recent[0][0] > self.before or len(self._recent) > most):
            self._recent.popleft()
        for clip in self._making.values():
            if clip.encoding is None and len(clip.frames) < self._most_frames:
                clip.frames.append(image)
                self._follow(clip, objects, at)
        for event in events:
            if event.phase is AccessPhase.start and event.incident_id not in self._making:
                self._making[event.incident_id] = _ClipInMaking(
                    start=event,
                    frames=[frame for _, frame in self._recent],
                    until=at + self.after,
                    last_box=event.box,
                    last_score=event.score,
                    last_at=at,
                    first_at=self._recent[0][0],
                    track_id=event.track_id,
                )
        ready = self.observe_ends(events)
        for clip in self._making.values():
            if clip.encoding is None and at >= clip.until:
                self._encode(clip)
        return ready + self._written()

    def observe_ends(self, events: Sequence[ZoneEvent]) -> list[ZoneEvent]:
        """`events` less the ends of incidents whose clip is still being made: those are
        held, and that clip is cut where its incident ended."""
        ready: list[ZoneEvent] = []
        for event in events:
            clip = self._making.get(event.incident_id)
            if clip is not None:
                clip.track_id = event.track_id
            if event.phase is AccessPhase.end and clip is not None:
                clip.held_ends.append(event)
                if clip.encoding is None:
                    clip.until = min(clip.until, event.at)  # nothing more of it to film
                continue
            ready.append(event)
        return ready

    def close(self) -> list[ZoneEvent]:
        """Finish every clip with the frames it has, wait for them, and return the updates and
        the held ends; the camera calls this when it stops."""
        for clip in self._making.values():
            if clip.encoding is None:
                self._encode(clip)
        self._encoder.shutdown(wait=True)
        return self._written()

    def _encode(self, clip: _ClipInMaking) -> None:
        # Played at the rate the frames were analysed, not the configured one: a loaded
        # machine analyses fewer frames, and the clip must still last as long as it filmed.
        span = (clip.last_at - clip.first_at).total_seconds()
        fps = (len(clip.frames) - 1) / span if span > 0 and len(clip.frames) > 1 else self.fps
        fps = min(self.fps, max(MIN_CLIP_FPS, fps))
        clip.encoding = self._encoder.submit(self.store.keep, clip.frames, fps)

    def _follow(self, clip: _ClipInMaking, objects: TrackedObjects, at: datetime) -> None:
        # The update carries the newest box of the incident's track, as every update does.
        rows = np.flatnonzero(objects.track_ids == clip.track_id)
        if len(rows):
            clip.last_box = tuple(float(v) for v in objects.boxes[rows[0]])  # type: ignore[assignment]
            clip.last_score = float(objects.scores[rows[0]])
        clip.last_at = at

    def _written(self) -> list[ZoneEvent]:
        out: list[ZoneEvent] = []
        for incident_id, clip in list(self._making.items()):
            if clip.encoding is None or not clip.encoding.done():
                continue
            del self._making[incident_id]
            try:
                sha256 = clip.encoding.result()
            except ClipError as error:
                # The incident is reported all the same; only its video is missing.
                self.failures.append(f"incident {incident_id}: {error}")
                out += clip.held_ends
                continue
            update = dataclasses.replace(
                clip.start,
                phase=AccessPhase.update,
                track_id=clip.track_id,
                at=clip.last_at,
                box=clip.last_box,
                score=clip.last_score,
                snapshot_sha256=None,
                clip_sha256=sha256,
            )
            out += [update, *clip.held_ends]
        return out
