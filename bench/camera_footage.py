"""The busy footage of bench/cameras.py: vtest.avi (people walking all the time) in other
geometries, with the demo zones carried along, written as 2 fps video files the worker's own
capture plays at real time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from config.cameras import Camera
from config.site import SiteConfig
from config.zones import Zone

START = datetime(2026, 3, 14, 1, 0, tzinfo=UTC)  # night: every demo zone is armed
FPS = 2.0
FRAME_STEP = 5  # vtest is 10 fps: every 5th frame is 2 fps
GEOMETRIES = ("recorded", "mirrored", "cropped", "later")
CROP_X, CROP_Y, CROP_W, CROP_H = 64, 48, 640, 480


@dataclass(frozen=True)
class BenchCamera:
    camera: Camera
    zones: list[Zone]


def transform(image: np.ndarray, geometry: str) -> np.ndarray:
    if geometry == "mirrored":
        return cv2.flip(image, 1)
    if geometry == "cropped":
        return image[CROP_Y : CROP_Y + CROP_H, CROP_X : CROP_X + CROP_W].copy()
    return image


def moved_point(point: tuple[int, int], geometry: str, width: int) -> tuple[int, int]:
    x, y = point
    if geometry == "mirrored":
        return width - 1 - x, y
    if geometry == "cropped":
        return min(max(x - CROP_X, 0), CROP_W - 1), min(max(y - CROP_Y, 0), CROP_H - 1)
    return x, y


def moved_zones(zones: Sequence[Zone], camera_id: str, geometry: str, width: int) -> list[Zone]:
    """The demo zones where they lie in a transformed copy of the picture."""
    moved = []
    for zone in zones:
        update: dict = {
            "camera": camera_id,
            "polygon": [moved_point(p, geometry, width) for p in zone.polygon],
        }
        if zone.line is not None:
            start = moved_point(zone.line.start, geometry, width)
            end = moved_point(zone.line.end, geometry, width)
            if geometry == "mirrored":  # mirroring swaps left and right: keep the direction
                start, end = end, start
            update["line"] = zone.line.model_copy(update={"start": start, "end": end})
        moved.append(zone.model_copy(update=update))
    return moved


def footage(vtest: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(vtest))
    frames, index = [], 0
    while True:
        ok, image = capture.read()
        if not ok:
            break
        if index % FRAME_STEP == 0:
            frames.append(image)
        index += 1
    capture.release()
    return frames


def geometry_of(index: int) -> tuple[str, int]:
    """Camera index to its geometry and first frame (of the 2 fps frames)."""
    geometry = GEOMETRIES[index % len(GEOMETRIES)]
    start = (60 if geometry == "later" else 0) + 17 * (index // len(GEOMETRIES))
    return geometry, start


def write_cameras(
    site: SiteConfig, frames: list[np.ndarray], count: int, work: Path
) -> list[BenchCamera]:
    """Video files of `count` cameras (2 fps, MJPEG) and their cameras and zones."""
    cameras = []
    template = site.cameras[0]
    for index in range(count):
        geometry, start = geometry_of(index)
        camera_id = f"bench-cam-{index + 1}"
        path = work / f"{camera_id}.avi"
        images = [transform(image, geometry) for image in frames[start:] + frames[:start]]
        height, width = images[0].shape[:2]
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (width, height))
        for image in images:
            writer.write(image)
        writer.release()
        camera = template.model_copy(
            update={
                "id": camera_id,
                "source": str(path),
                "target_fps": FPS,
                "realtime": True,
                "loop": True,
                "resolution": None,
                "start_time": START,
            }
        )
        zones = moved_zones(site.zones_of(template.id), camera_id, geometry, frames[0].shape[1])
        cameras.append(BenchCamera(camera, zones))
    return cameras
