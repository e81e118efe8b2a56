"""The zone preview: a camera's frame with its zones and lines drawn, for checking by eye."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2

from config.loading import load_site
from config.site import UnknownCamera
from config.zones import Zone
from detectors.annotate import WHITE, draw_zones, put_label
from ingest.sources import is_stream, open_source


class PreviewError(ValueError):
    """The camera or the frame asked for does not exist."""


@dataclass(frozen=True)
class ZonePreview:
    path: Path
    zones: list[Zone]

    def describe(self) -> str:
        names = ", ".join(zone.id for zone in self.zones) or "none"
        return f"{self.path}: {len(self.zones)} zones ({names})"


def write_preview(
    config: Path, camera_id: str, out: Path | None = None, frame_index: int = 0
) -> ZonePreview:
    """Draws the camera's zones on one of its frames and writes PNG to `out` (by default
    zones-CAMERA.png)."""
    out = out or Path(f"zones-{camera_id}.png")
    site = load_site(config)
    try:
        camera = site.camera(camera_id)
    except UnknownCamera as error:
        raise PreviewError(f"{config}: {error}") from None
    capture = open_source(camera.id, camera.source)
    try:
        if frame_index and not is_stream(camera.source):
            capture.set(cv2.CAP_PROP_POS_FRAMES, frame_index)
        ok, image = capture.read()
    finally:
        capture.release()
    if not ok:
        raise PreviewError(f"camera {camera_id}: no frame {frame_index} in {camera.source}")
    zones = site.zones_of(camera_id)
    canvas = draw_zones(image, zones)
    put_label(canvas, f"{site.site.id} / {camera_id}", (8, canvas.shape[0] - 10), WHITE, 0.5)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), canvas):
        raise PreviewError(f"cannot write {out}")
    return ZonePreview(out, zones)
