"""The accuracy gate of a faster way to run the model: the share of the in-zone persons the
full-frame 640 px model finds on the same frames that it still finds (IoU >= 0.5).

A person is in a zone as the zone's own rule sees it: anchor inside the polygon, class, score
and area the zone accepts. The full-frame 640 px model (the bundled best_fp16.onnx, as sites
ran it before region inference) is the reference; the gate and bench/cameras.py use it alike.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from config.detector import Detector, InferenceMode, ModelBackend
from config.site import SiteConfig
from config.zones import Zone
from detectors.geometry import ZonePolygon, anchor_points
from detectors.model import ModelError
from ingest.sources import SourceError, open_source

MATCH_IOU = 0.5
DUPLICATE_IOU = 0.7
REFERENCE_IMAGE_SIZE = 640


class BackendRefused(ModelError):
    """A faster backend keeps too few of the persons the reference model finds in the zones."""


@dataclass(frozen=True)
class SiteFrame:
    """One frame of a site camera's own footage, with that camera's zones."""

    camera_id: str
    image: np.ndarray
    zones: tuple[Zone, ...]


@dataclass(frozen=True)
class KeptShare:
    kept: int
    total: int

    @property
    def share(self) -> float:
        return self.kept / self.total if self.total else 1.0

    def __add__(self, other: KeptShare) -> KeptShare:
        return KeptShare(self.kept + other.kept, self.total + other.total)


def in_zone(rows: np.ndarray, zones: Sequence[Zone], class_names: dict[int, str]) -> np.ndarray:
    """The persons (rows x1 y1 x2 y2 score class) some zone's rule would count as inside it.

    The reference model's NMS keeps one box per class, so one person can come twice, as
    Normal and as Fall; both alias to person, and a person counts once.
    """
    rows = one_box_per_person(rows, class_names)
    if len(rows) == 0:
        return rows
    boxes = rows[:, :4].astype(np.float64)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    names = [class_names.get(int(c), str(int(c))) for c in rows[:, 5]]
    inside = np.zeros(len(rows), dtype=bool)
    for zone in zones:
        wanted = np.array([name in zone.classes for name in names], dtype=bool)
        inside |= (
            ZonePolygon(zone.polygon).contains(anchor_points(boxes, zone.anchor))
            & wanted
            & (rows[:, 4] >= zone.min_score)
            & (areas >= zone.min_area)
        )
    return rows[inside]


def one_box_per_person(rows: np.ndarray, class_names: dict[int, str]) -> np.ndarray:
    """Drop a box that overlaps a higher-scoring box of the same aliased class by
    DUPLICATE_IOU (the reference model's own NMS threshold)."""
    order = np.argsort(-rows[:, 4], kind="stable") if len(rows) else []
    names = [class_names.get(int(c), str(int(c))) for c in rows[:, 5]] if len(rows) else []
    chosen: list[int] = []
    for index in order:
        same = [i for i in chosen if names[i] == names[index]]
        if same and _iou(rows[index], rows[same]).max() >= DUPLICATE_IOU:
            continue
        chosen.append(int(index))
    return rows[sorted(chosen)]


def kept(reference: np.ndarray, candidate: np.ndarray) -> KeptShare:
    """How many reference boxes a candidate box overlaps by MATCH_IOU, each used once."""
    free = list(range(len(candidate)))
    found = 0
    for box in reference[np.argsort(-reference[:, 4])] if len(reference) else []:
        if not free:
            break
        overlaps = _iou(box, candidate[free])
        best = int(np.argmax(overlaps))
        if overlaps[best] >= MATCH_IOU:
            found += 1
            del free[best]
    return KeptShare(found, len(reference))


def reference_settings(settings: Detector) -> Detector:
    """The reference: the bundled full-frame model at 640 px, same confidence and aliases."""
    return settings.model_copy(
        update={
            "model": "default",
            "backend": ModelBackend.onnx,
            "inference": InferenceMode.full_frame,
            "image_size": REFERENCE_IMAGE_SIZE,
        }
    )


def site_frames(site: SiteConfig, per_camera: int, spacing: int, offset: int) -> list[SiteFrame]:
    """Frames of each enabled camera's own source: every `spacing`-th from `offset` on."""
    frames: list[SiteFrame] = []
    for camera in site.cameras:
        if not camera.enabled:
            continue
        zones = tuple(site.zones_of(camera.id))
        if not zones:
            continue
        try:
            capture = open_source(camera.id, camera.source)
        except SourceError as error:
            raise BackendRefused(
                f"no footage of the site to check the backend on: {error}"
            ) from None
        index = 0
        taken = 0
        while taken < per_camera:
            ok, image = capture.read()
            if not ok:
                break
            if index >= offset and (index - offset) % spacing == 0:
                frames.append(SiteFrame(camera.id, image, zones))
                taken += 1
            index += 1
        capture.release()
    return frames


def footage_digest(frames: Sequence[SiteFrame]) -> str:
    """SHA-256 of frames and zones: a check recorded for other footage does not count."""
    digest = hashlib.sha256()
    for frame in frames:
        digest.update(frame.camera_id.encode())
        digest.update(cv2.imencode(".png", frame.image)[1].tobytes())
        for zone in frame.zones:
            digest.update(zone.model_dump_json().encode())
    return digest.hexdigest()


def gate_message(backend: str, result: KeptShare, min_kept: float, where: Path) -> str:
    return (
        f"detector.backend {backend} refused: on the site's own footage it kept "
        f"{result.kept} of the {result.total} in-zone persons the full-frame "
        f"{REFERENCE_IMAGE_SIZE} px model finds ({result.share:.3f}), below the gate "
        f"detector.backend_min_kept {min_kept}; use backend onnx, or a lower gate knowingly "
        f"(the check is recorded in {where})"
    )


def _iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    w = np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0])
    h = np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1])
    inter = w.clip(0) * h.clip(0)
    own = (box[2] - box[0]) * (box[3] - box[1])
    theirs = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    return inter / np.maximum(own + theirs - inter, 1e-6)
