"""Drawing what a tuning run saw onto frames: zones, lines, motion regions, tracked boxes with
ids and scores, rule firings; and the contact sheet of key frames. Presentation only: the
rules and the scoring live elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

from config.zones import Zone
from detectors.events import AccessPhase, ZoneEvent
from detectors.pipeline import FrameAnalysis

# BGR; one colour per zone in config order, chosen to stand out on grey paving and grass.
ZONE_PALETTE = (
    (0, 200, 255),
    (255, 80, 0),
    (255, 0, 200),
    (0, 255, 120),
    (0, 120, 255),
    (255, 255, 0),
    (160, 0, 255),
    (0, 255, 255),
)
MOTION_COLOUR = (200, 200, 200)
TRACK_COLOUR = (0, 220, 0)
FIRING_COLOUR = (0, 0, 255)
TEXT_SHADOW = (0, 0, 0)
FONT = cv2.FONT_HERSHEY_SIMPLEX
ZONE_FILL_ALPHA = 0.18
# A line crossing is one instant; its banner stays this many frames so the eye catches it.
FLASH_FRAMES = 5


def zone_colour(index: int) -> tuple[int, int, int]:
    return ZONE_PALETTE[index % len(ZONE_PALETTE)]


def put_label(
    canvas: np.ndarray, text: str, at: tuple[int, int], colour: tuple[int, int, int], size: float
) -> None:
    """Text with a dark outline, readable on any background."""
    cv2.putText(canvas, text, at, FONT, size, TEXT_SHADOW, 3, cv2.LINE_AA)
    cv2.putText(canvas, text, at, FONT, size, colour, 1, cv2.LINE_AA)


def draw_zones(canvas: np.ndarray, zones: Sequence[Zone]) -> np.ndarray:
    """Each zone shaded and outlined in its own colour and named; lines drawn with an arrow
    pointing the way that fires. Draws on `canvas` and returns it."""
    shade = canvas.copy()
    for index, zone in enumerate(zones):
        corners = np.asarray(zone.polygon, dtype=np.int32).reshape(-1, 1, 2)
        cv2.fillPoly(shade, [corners], zone_colour(index))
    cv2.addWeighted(shade, ZONE_FILL_ALPHA, canvas, 1 - ZONE_FILL_ALPHA, 0, dst=canvas)
    for index, zone in enumerate(zones):
        colour = zone_colour(index)
        corners = np.asarray(zone.polygon, dtype=np.int32).reshape(-1, 1, 2)
        cv2.polylines(canvas, [corners], isClosed=True, color=colour, thickness=2)
        if zone.line is not None:
            _draw_line(canvas, zone, colour)
        top_left = min(zone.polygon, key=lambda point: (point[1], point[0]))
        name = f"{zone.id} ({_rule_name(zone)})"
        # Kept inside the picture: a zone along the right edge would lose its name.
        (text_width, _), _ = cv2.getTextSize(name, FONT, 0.45, 1)
        x = max(0, min(top_left[0] + 4, canvas.shape[1] - text_width - 4))
        put_label(canvas, name, (x, max(14, top_left[1] + 14)), colour, 0.45)
    return canvas


def _rule_name(zone: Zone) -> str:
    presence = f"loitering {zone.loitering_seconds:g}s" if zone.loitering_seconds else "intrusion"
    if zone.line is not None:
        return f"{presence} + line {zone.line.direction.value}"
    return presence


def _draw_line(canvas: np.ndarray, zone: Zone, colour: tuple[int, int, int]) -> None:
    assert zone.line is not None
    start = np.asarray(zone.line.start, dtype=np.float64)
    end = np.asarray(zone.line.end, dtype=np.float64)
    cv2.line(canvas, zone.line.start, zone.line.end, colour, 3)
    # Arrows from the middle to the side(s) that fire. Image y points down, so the right of
    # a viewer looking from start to end is the direction (-dy, dx).
    middle = (start + end) / 2
    along = end - start
    right = np.array([-along[1], along[0]]) / max(np.linalg.norm(along), 1e-9)
    sides = {"left_to_right": [1.0], "right_to_left": [-1.0], "both": [1.0, -1.0]}
    for sign in sides[zone.line.direction.value]:
        tip = middle + sign * right * 30
        cv2.arrowedLine(
            canvas,
            tuple(int(v) for v in middle),
            tuple(int(v) for v in tip),
            colour,
            2,
            tipLength=0.4,
        )


@dataclass
class FiringBoard:
    """Which tracks are in an open incident, and recent instant firings, for one config."""

    open_incidents: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    flashes: list[tuple[int, str]] = field(default_factory=list)  # frames left, banner text

    def update(self, events: Sequence[ZoneEvent]) -> list[str]:
        """Take a frame's events; returns the banners to show on this frame."""
        self.flashes = [(left - 1, text) for left, text in self.flashes if left > 1]
        for event in events:
            text = f"{event.zone_id} {event.rule.value} {event.phase.value} #{event.track_id}"
            if event.phase is AccessPhase.start:
                self.flashes.append((FLASH_FRAMES, text))
                self.open_incidents[event.incident_id] = (
                    event.zone_id,
                    event.rule.value,
                    event.track_id,
                )
            elif event.phase is AccessPhase.end:
                self.open_incidents.pop(event.incident_id, None)
        return [text for _, text in self.flashes]

    def firing_tracks(self) -> dict[int, str]:
        return {track: f"{zone} {rule}" for zone, rule, track in self.open_incidents.values()}


def draw_analysis(
    image: np.ndarray,
    zones: Sequence[Zone],
    analysis: FrameAnalysis,
    board: FiringBoard,
    title: str,
    frame_number: int,
    at: datetime,
) -> np.ndarray:
    """A copy of `image` with everything one config made of it."""
    canvas = draw_zones(image.copy(), zones)
    for x1, y1, x2, y2 in analysis.motion_regions:
        cv2.rectangle(canvas, (x1, y1), (x2, y2), MOTION_COLOUR, 1)
    banners = board.update(analysis.events)
    firing = board.firing_tracks()
    for row, track_id in enumerate(analysis.objects.track_ids):
        x1, y1, x2, y2 = (int(round(v)) for v in analysis.objects.boxes[row])
        score = float(analysis.objects.scores[row])
        colour = FIRING_COLOUR if int(track_id) in firing else TRACK_COLOUR
        cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, 2)
        put_label(canvas, f"#{track_id} {score:.2f}", (x1, max(12, y1 - 4)), colour, 0.42)
        if int(track_id) in firing:
            put_label(canvas, firing[int(track_id)], (x1, y2 + 14), colour, 0.4)
    state = "model" if analysis.model_ran else "still: model skipped"
    put_label(canvas, title, (8, 20), (255, 255, 255), 0.55)
    put_label(
        canvas,
        f"frame {frame_number}  {at:%H:%M:%S.%f}"[:-4] + f"  {state}",
        (8, 40),
        (255, 255, 255),
        0.45,
    )
    for line, text in enumerate(banners):
        put_label(canvas, text, (8, 62 + 18 * line), FIRING_COLOUR, 0.5)
    return canvas


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
            self._firing.append((frame_number, self._thumb(canvas)))
        elif (self._seen - 1) % self._stride == 0:
            self._spread.append((frame_number, self._thumb(canvas)))

    def sheet(self, columns: int = 4) -> np.ndarray | None:
        chosen = self._firing[: self.count]
        room = self.count - len(chosen)
        if room > 0 and self._spread:
            step = max(1, len(self._spread) // room)
            chosen += self._spread[::step][:room]
        if not chosen:
            return None
        thumbs = [thumb for _, thumb in sorted(chosen, key=lambda item: item[0])]
        blank = np.zeros_like(thumbs[0])
        thumbs += [blank] * (-len(thumbs) % columns)
        rows = [np.hstack(thumbs[i : i + columns]) for i in range(0, len(thumbs), columns)]
        return np.vstack(rows)

    def _thumb(self, canvas: np.ndarray) -> np.ndarray:
        scale = self.thumb_width / canvas.shape[1]
        return cv2.resize(canvas, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
