"""The object model through ultralytics (.pt, .onnx or an OpenVINO folder) and the tracker
that gives each object an id that stays with it across frames."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from config.detector import Detector, ModelBackend
from detectors.events import TrackedObjects

# ultralytics would otherwise try to reach the internet for settings and assets.
os.environ.setdefault("YOLO_OFFLINE", "1")

# ByteTrack settings as ultralytics ships them, except that a lost track is kept for 50
# analysed frames (10 s at 5 fps): people pass behind a lamp post or each other.
BYTETRACK_SETTINGS = SimpleNamespace(
    tracker_type="bytetrack",
    track_high_thresh=0.25,
    track_low_thresh=0.1,
    new_track_thresh=0.25,
    track_buffer=50,
    match_thresh=0.8,
    fuse_score=True,
)


class ModelError(RuntimeError):
    """The configured model cannot be found or loaded."""


@dataclass(frozen=True)
class ModelIdentity:
    name: str
    sha256: str
    path: Path


def resolve_model(detector: Detector, data_dir: Path) -> Path:
    """The model file the detector settings mean; 'default' is the bundled person model."""
    if detector.model == "default":
        if detector.backend is ModelBackend.onnx_int8:
            raise ModelError(
                "detector.backend onnx_int8 runs only with detector.inference regions: it is "
                "quantised on the site's footage from the dynamic-shape model"
            )
        if detector.backend is ModelBackend.openvino:
            raise ModelError(
                "detector.model: the default model runs on OpenVINO with detector.inference "
                "regions; for full frames export one with `yolo export format=openvino` and set "
                "detector.model to its folder"
            )
        from config.resources import model_path

        return model_path(data_dir, detector.backend.value)
    path = Path(detector.model)
    if not path.exists():
        raise ModelError(f"detector.model: {path} does not exist")
    return path


def model_identity(path: Path) -> ModelIdentity:
    """Name and SHA-256 of a model file, or of all files of an OpenVINO folder in name order."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(file.read_bytes())
    return ModelIdentity(path.name, digest.hexdigest(), path)


class ObjectDetector:
    """Runs the model on one image and returns boxes, scores and aliased class names."""

    def __init__(self, detector: Detector, model_file: Path) -> None:
        from ultralytics import YOLO

        self.settings = detector
        try:
            self._model = YOLO(str(model_file), task="detect")
            # An exported model (.onnx) has no class names until a predictor has loaded it, and
            # asking for them first loads it a second time (printed twice): one blank frame
            # through predict() sets up the predictor that every detect() then reuses.
            self._predict(np.zeros((32, 32, 3), dtype=np.uint8))
        except Exception as error:  # ultralytics raises many kinds for a bad file
            raise ModelError(f"cannot load model {model_file}: {error}") from error
        names = self._model.predictor.model.names
        self.class_names = {
            int(index): detector.class_aliases.get(name, name) for index, name in names.items()
        }

    def detect(self, image: np.ndarray) -> np.ndarray:
        """Rows of x1 y1 x2 y2 score class_index, float32."""
        result = self._predict(image)
        boxes = result.boxes.cpu().numpy()
        return np.concatenate([boxes.xyxy, boxes.conf[:, None], boxes.cls[:, None]], axis=1).astype(
            np.float32
        )

    def _predict(self, image: np.ndarray):
        return self._model.predict(
            image, imgsz=self.settings.image_size, conf=self.settings.confidence, verbose=False
        )[0]


class ObjectTracker:
    """ByteTrack over detections. Ids are renumbered from 1 per camera in order of appearance,
    so they do not depend on other cameras or on how the tracker counts internally."""

    def __init__(self, class_names: dict[int, str]) -> None:
        from ultralytics.trackers.byte_tracker import BYTETracker

        self._tracker = BYTETracker(BYTETRACK_SETTINGS)
        self._class_names = class_names
        self._camera_ids: dict[int, int] = {}

    def update(self, detections: np.ndarray, image_shape: tuple[int, int]) -> TrackedObjects:
        from ultralytics.engine.results import Boxes

        tracks = self._tracker.update(Boxes(detections, image_shape))
        if len(tracks) == 0:
            return TrackedObjects.none()
        ids = np.array(
            [
                self._camera_ids.setdefault(int(raw), len(self._camera_ids) + 1)
                for raw in tracks[:, 4]
            ],
            dtype=np.int64,
        )
        return TrackedObjects(
            track_ids=ids,
            boxes=tracks[:, :4].astype(np.float64),
            scores=tracks[:, 5].astype(np.float64),
            classes=tuple(self._class_names.get(int(c), str(int(c))) for c in tracks[:, 6]),
        )
