"""Busy cameras one worker sustains at 2 fps with region inference and one shared model
session, against the full-frame 640 px model on the same frames.

    YOLO_OFFLINE=1 python -m bench.cameras [--max-cameras 12] [--seconds 20] [--backend onnx]

Each camera is vtest.avi (people walking all the time) in one of four geometries, each with
the demo zones carried along: as recorded, mirrored, cropped to 640x480, and started further
into the clip; cameras beyond four start at other frames again. Every camera is a video file
played at real time by the worker's own capture at 2 fps (a frame not taken before the next
one comes is dropped), analysed by the worker's pipeline through the worker's shared model.

Prints JSON: for each N the frames/s analysed, frames dropped and stage times (the curve);
the largest N without a dropped frame; the share of in-zone persons the region model keeps
of those the full-frame model finds on the same frames, and both models' time per frame;
crops batched into one call against one call per crop; and the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import numpy as np

from bench.camera_footage import (
    FPS,
    GEOMETRIES,
    START,
    BenchCamera,
    footage,
    geometry_of,
    transform,
    write_cameras,
)
from config.detector import Detector, InferenceMode, ModelBackend
from config.loading import load_site
from config.resources import ensure_footage
from config.site import SiteConfig
from detectors.accuracy import KeptShare, in_zone, kept, reference_settings
from detectors.evidence import EvidenceStore
from detectors.faster import region_model
from detectors.model import ObjectDetector, resolve_model
from detectors.pipeline import CameraPipeline, FrameAnalysis, RegionDetector
from detectors.regions import Crop, RegionPlan
from detectors.session import ModelSession, crop_input
from ingest.capture import CameraCapture
from streams.worker.scheduling import SharedModel

REPO = Path(__file__).resolve().parents[1]
DEMO_SITE = REPO / "config" / "sites" / "demo.yaml"
WARM_UP_S = 4.0  # the first frames of every camera refresh all zones at once: not counted
ACCURACY_FRAMES = 24  # per geometry, in order, at 2 fps


def pipeline_for(
    site: SiteConfig, camera: BenchCamera, detector: RegionDetector, evidence: EvidenceStore
) -> CameraPipeline:
    return CameraPipeline(
        camera.camera.id, camera.zones, site.detector, site.site.timezone, detector, evidence
    )


def run_cameras(
    site: SiteConfig, session: ModelSession, cameras: list[BenchCamera], seconds: float
) -> dict:
    """Every camera through capture, pipeline and the shared session for `seconds`."""
    shared = SharedModel(session, site.detector.batch_crops).start()
    evidence = EvidenceStore(Path(tempfile.mkdtemp(prefix="bench-evidence-")))
    stop = threading.Event()
    analyses: dict[str, list[FrameAnalysis]] = {c.camera.id: [] for c in cameras}
    captures = [CameraCapture(c.camera, START, lambda _o: None) for c in cameras]

    def watch(camera: BenchCamera, capture: CameraCapture) -> None:
        pipeline = pipeline_for(site, camera, shared.for_camera(camera.camera.id), evidence)
        while not stop.is_set():
            frame = capture.take(timeout_s=0.5)
            if frame is not None:
                analyses[camera.camera.id].append(pipeline.analyse(frame.image, frame.captured_at))

    threads = [
        threading.Thread(target=watch, args=pair, daemon=True)
        for pair in zip(cameras, captures, strict=True)
    ]
    for capture in captures:
        capture.start()
    for thread in threads:
        thread.start()
    time.sleep(WARM_UP_S)
    dropped_before = sum(c.frames_dropped for c in captures)
    counted_before = sum(len(a) for a in analyses.values())
    busy_before = shared.busy_s
    started = time.perf_counter()
    time.sleep(seconds)
    elapsed = time.perf_counter() - started
    busy = shared.busy_s - busy_before
    dropped = sum(c.frames_dropped for c in captures) - dropped_before
    counted = sum(len(a) for a in analyses.values()) - counted_before
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    for capture in captures:
        capture.stop()
    shared.stop()
    every = [a for runs in analyses.values() for a in runs[2:]]
    return {
        "cameras": len(cameras),
        "frames_per_s": round(counted / elapsed, 2),
        "offered_per_s": round(FPS * len(cameras), 2),
        "frames_dropped": dropped,
        "model_busy_share": round(busy / elapsed, 2),  # near 1: the model is the limit
        "stage_ms": stage_ms(every),
        "crop_kpixels_per_frame": round(float(np.mean([a.crop_pixels for a in every])) / 1000, 1)
        if every
        else 0,
    }


def stage_ms(analyses: Sequence[FrameAnalysis]) -> dict[str, float]:
    """Mean milliseconds per analysed frame of each stage (model: waiting for the turn too)."""
    if not analyses:
        return {}
    names = ("motion_s", "model_s", "tracking_s", "rules_s")
    return {
        name.removesuffix("_s"): round(
            1000 * float(np.mean([getattr(a.stage_times, name) for a in analyses])), 1
        )
        for name in names
    }


class RecordingSession:
    """The region session, remembering the boxes of the last frame it ran on."""

    def __init__(self, session: ModelSession) -> None:
        self.session, self.class_names = session, session.class_names
        self.rows = np.zeros((0, 6), np.float32)

    def detect(self, image: np.ndarray, crops: Sequence[Crop]) -> np.ndarray:
        self.rows = self.session.detect(image, crops)
        return self.rows


def accuracy(
    site: SiteConfig,
    session: ModelSession,
    reference: ObjectDetector,
    frames: list[np.ndarray],
    cameras: list[BenchCamera],
) -> dict:
    """Per geometry, in order at 2 fps: in-zone persons of the full-frame model kept by what
    the region pipeline holds for that frame (its newest boxes; when it skipped the model, the
    boxes it still trusts), and each model's time per frame."""
    evidence = EvidenceStore(Path(tempfile.mkdtemp(prefix="bench-evidence-")))
    result, reference_s, region_s = {}, [], []
    for index, camera in enumerate(cameras[: len(GEOMETRIES)]):
        geometry, start = geometry_of(index)
        recorder = RecordingSession(session)
        pipeline = pipeline_for(site, camera, recorder, evidence)
        share = KeptShare(0, 0)
        for step in range(ACCURACY_FRAMES):
            image = transform(frames[(start + step) % len(frames)], geometry)
            began = time.perf_counter()
            analysis = pipeline.analyse(image, START + timedelta(seconds=step / FPS))
            if analysis.model_ran:
                region_s.append(time.perf_counter() - began)
            began = time.perf_counter()
            persons = in_zone(reference.detect(image), camera.zones, reference.class_names)
            reference_s.append(time.perf_counter() - began)
            share += kept(persons, recorder.rows)
        result[geometry] = {
            "kept": share.kept,
            "persons": share.total,
            "share": round(share.share, 3),
        }
    total = sum((KeptShare(g["kept"], g["persons"]) for g in result.values()), KeptShare(0, 0))
    return {
        "by_geometry": result,
        "kept_share": round(total.share, 3),
        "full_frame_640_ms_per_frame": round(1000 * float(np.mean(reference_s)), 1),
        "region_pipeline_ms_per_model_frame": round(1000 * float(np.mean(region_s)), 1),
    }


def batching(session: ModelSession, frames: list[np.ndarray], cameras: list[BenchCamera]) -> dict:
    """The same crops (every zone of one frame of each camera) in one call per size, and in
    one call per crop."""
    inputs = []
    for index, camera in enumerate(cameras):
        geometry, start = geometry_of(index)
        image = transform(frames[start], geometry)
        plan = RegionPlan.for_settings(
            image.shape[1::-1], [z.polygon for z in camera.zones], session.settings
        )
        inputs += [crop_input(image, crop) for crop in plan.whole_zones()]
    session.run(inputs)  # warm-up
    began = time.perf_counter()
    session.run(inputs)
    batched = time.perf_counter() - began
    began = time.perf_counter()
    for item in inputs:
        session.run([item])
    single = time.perf_counter() - began
    return {
        "crops": len(inputs),
        "sizes": len({i.shape for i in inputs}),
        "batched_ms": round(1000 * batched),
        "one_call_per_crop_ms": round(1000 * single),
        "batched_faster": batched < single,
    }


def load_average() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-cameras", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per N")
    parser.add_argument("--backend", choices=["onnx", "onnx_int8", "openvino"], default="onnx")
    args = parser.parse_args()
    load_before = load_average()

    demo = load_site(DEMO_SITE, check_keys=False)  # it only detects: no record is read
    detector: Detector = demo.detector.model_copy(
        update={"inference": InferenceMode.regions, "backend": ModelBackend(args.backend)}
    )
    site = demo.model_copy(update={"detector": detector})
    session = ModelSession(detector, region_model(site))
    reference_detector = reference_settings(detector)
    reference = ObjectDetector(
        reference_detector, resolve_model(reference_detector, Path(site.data_dir))
    )
    frames = footage(ensure_footage(Path(site.data_dir)))
    with tempfile.TemporaryDirectory(prefix="bench-cameras-") as work:
        cameras = write_cameras(site, frames, args.max_cameras, Path(work))
        quality = accuracy(site, session, reference, frames, cameras)
        curve, sustained, failures = [], 0, 0
        for count in [1, 2, *range(4, args.max_cameras + 1, 2)]:
            point = run_cameras(site, session, cameras[:count], args.seconds)
            print(json.dumps(point), file=sys.stderr)
            curve.append(point)
            if point["frames_dropped"] == 0:
                sustained = count
                failures = 0
            else:
                failures += 1
                if failures == 2:
                    break
        batch = batching(session, frames, cameras[:8])
    print(
        json.dumps(
            {
                "backend": args.backend,
                "cpu_count": os.cpu_count(),
                "fps_per_camera": FPS,
                "largest_n_without_drops": sustained,
                "in_zone_persons_kept": quality,
                "curve": curve,
                "batching": batch,
                "load_before": load_before,
                "load_after": load_average(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
