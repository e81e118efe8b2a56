"""Camera worker throughput: model-only frames/s against whole-pipeline frames/s on the same
frames in the same process, on vtest.avi and on a static scene (one vtest frame repeated).

    YOLO_OFFLINE=1 python -m bench.worker [--frames 60] [--backend onnx]

Prints JSON. The whole pipeline (motion gate, model when something moves, tracker, zone
rules, evidence snapshots) against the model alone shows what the motion gate saves and what
the rest of the pipeline costs.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

from config.detector import ModelBackend
from config.loading import load_site
from config.resources import ensure_footage
from detectors.evidence import EvidenceStore
from detectors.model import ObjectDetector, ObjectTracker, resolve_model
from detectors.pipeline import CameraPipeline

REPO = Path(__file__).resolve().parents[1]
DEMO_SITE = REPO / "config" / "sites" / "demo.yaml"
START = datetime(2026, 3, 14, 1, 0, tzinfo=UTC)


def footage_frames(path: Path, count: int, every: int) -> list[np.ndarray]:
    """`count` frames of the file, every `every`-th one (vtest is 10 fps; 2 gives 5 fps)."""
    capture = cv2.VideoCapture(str(path))
    frames: list[np.ndarray] = []
    index = 0
    while len(frames) < count:
        ok, image = capture.read()
        if not ok:
            break
        if index % every == 0:
            frames.append(image)
        index += 1
    capture.release()
    return frames


def frames_per_second(
    frames: list[np.ndarray], analyse: Callable[[np.ndarray, int], None]
) -> float:
    started = time.perf_counter()
    for index, image in enumerate(frames):
        analyse(image, index)
    return len(frames) / (time.perf_counter() - started)


def compare(frames: list[np.ndarray], make_pipeline: Callable[[], CameraPipeline]) -> dict:
    """Model (with tracker) alone, then the whole pipeline, over the same frames."""
    pipeline = make_pipeline()
    tracker = ObjectTracker(pipeline.detector.class_names)

    def model_only(image: np.ndarray, _index: int) -> None:
        tracker.update(pipeline.detector.detect(image), image.shape[:2])

    def whole(image: np.ndarray, index: int) -> None:
        model_runs.append(pipeline.analyse(image, START + timedelta(seconds=index / 5)).model_ran)

    model_runs: list[bool] = []
    model_fps = frames_per_second(frames, model_only)
    pipeline_fps = frames_per_second(frames, whole)
    return {
        "frames": len(frames),
        "model_only_fps": round(model_fps, 2),
        "pipeline_fps": round(pipeline_fps, 2),
        "pipeline_over_model": round(pipeline_fps / model_fps, 2),
        "model_run_ratio": round(sum(model_runs) / len(model_runs), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60, help="frames per measurement")
    parser.add_argument("--backend", choices=[b.value for b in ModelBackend], default="onnx")
    args = parser.parse_args()

    site = load_site(DEMO_SITE, check_keys=False)  # it only detects: no record is read
    detector_settings = site.detector.model_copy(update={"backend": ModelBackend(args.backend)})
    model_file = resolve_model(detector_settings, Path(site.data_dir))
    detector = ObjectDetector(detector_settings, model_file)
    detector.detect(np.zeros((576, 768, 3), np.uint8))  # warm-up: session start is not speed
    evidence = EvidenceStore(Path(tempfile.mkdtemp(prefix="bench-evidence-")))
    camera = site.cameras[0]

    def make_pipeline() -> CameraPipeline:
        return CameraPipeline(
            camera.id,
            site.zones_of(camera.id),
            detector_settings,
            site.site.timezone,
            detector,
            evidence,
        )

    moving = footage_frames(ensure_footage(Path(site.data_dir)), args.frames, every=2)
    still = [moving[0]] * len(moving)
    print(
        json.dumps(
            {
                "model": model_file.name,
                "image_size": detector_settings.image_size,
                "cpu_count": os.cpu_count(),
                "vtest_5fps": compare(moving, make_pipeline),
                "static_scene": compare(still, make_pipeline),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
