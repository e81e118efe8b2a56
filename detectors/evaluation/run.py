"""Recorded footage through one or more site configs with the worker's own capture and
pipeline, and no broker: every analysed frame with what each config made of it."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from config.cameras import Camera
from config.detector import Detector, InferenceMode
from config.site import SiteConfig, UnknownCamera
from detectors.events import ZoneEvent
from detectors.evidence import EvidenceStore
from detectors.faster import region_model
from detectors.model import ObjectDetector, resolve_model
from detectors.pipeline import CameraPipeline, FrameAnalysis
from detectors.session import ModelSession
from ingest.capture import CameraCapture
from ingest.frames import Frame, HealthObservation
from ingest.sources import media_fps, open_source

log = logging.getLogger(__name__)


class TuneError(ValueError):
    """The footage or the configs cannot be tuned as asked."""


@dataclass(frozen=True)
class TunedFrame:
    frame: Frame
    number: int  # 1-based position in the file, as MOT labels count frames
    analyses: list[FrameAnalysis]  # one per config, in the order given
    decode_wait_s: float  # time the loop waited for the capture thread to decode it


class FrameCachedDetector(ObjectDetector):
    """The model run once per frame however many configs look at it. Configs with the same
    detector settings share one of these; the model is deterministic, so sharing changes no
    result and halves the time of a two-config comparison."""

    def __init__(self, detector: Detector, model_file: Path) -> None:
        super().__init__(detector, model_file)
        self._last_image: np.ndarray | None = None
        self._last_rows = np.zeros((0, 6), np.float32)

    def detect(self, image: np.ndarray) -> np.ndarray:
        if image is not self._last_image:
            self._last_rows = super().detect(image)
            self._last_image = image
        return self._last_rows


class TuneRun:
    """Plays a camera's footage (or another file) as fast as the detector takes it, at the
    camera's target fps, through one pipeline per config."""

    def __init__(
        self,
        sites: Sequence[SiteConfig],
        camera_id: str,
        work_dir: Path,
        footage: Path | None = None,
        frame_limit: int | None = None,
    ) -> None:
        if not sites:
            raise TuneError("no config to tune")
        for site in sites:
            try:
                site.camera(camera_id)
            except UnknownCamera as error:
                raise TuneError(str(error)) from None
        self.sites = list(sites)
        self.camera_id = camera_id
        # The first config's camera decides the footage and sampling, so every config sees
        # exactly the same frames at exactly the same times.
        camera = sites[0].camera(camera_id)
        source = str(footage.resolve()) if footage is not None else camera.source
        self.camera: Camera = camera.model_copy(
            update={"source": source, "realtime": False, "loop": False}
        )
        self.start_time = camera.start_time or datetime.now(UTC)
        probe = open_source(camera_id, source)
        try:
            self.media_fps = media_fps(probe, camera_id, source)
            file_frames = int(probe.get(cv2.CAP_PROP_FRAME_COUNT))
        finally:
            probe.release()
        self.frame_limit = min(frame_limit, file_frames) if frame_limit else file_frames
        detectors: dict[tuple[str, Path], FrameCachedDetector | ModelSession] = {}
        self.pipelines = []
        for site in sites:
            regions = site.detector.inference is InferenceMode.regions
            model_file = (
                region_model(site) if regions else resolve_model(site.detector, Path(site.data_dir))
            )
            key = (site.detector.model_dump_json(), model_file)
            if key not in detectors:
                detectors[key] = (
                    ModelSession(site.detector, model_file)
                    if regions
                    else FrameCachedDetector(site.detector, model_file)
                )
            self.pipelines.append(
                CameraPipeline(
                    camera_id,
                    site.zones_of(camera_id),
                    site.detector,
                    site.site.timezone,
                    detectors[key],
                    EvidenceStore(work_dir / "snapshots"),
                )
            )
        self._last_time: datetime | None = None

    @property
    def expected_frames(self) -> int:
        """Frames the run will analyse: the limit sampled down to the camera's target fps."""
        seconds = self.frame_limit / self.media_fps
        return max(1, math.ceil(seconds * min(self.camera.target_fps, self.media_fps) - 1e-9))

    def frames(self) -> Iterator[TunedFrame]:
        capture = CameraCapture(
            self.camera,
            self.start_time,
            self._on_health,
            stop_after_s=self.frame_limit / self.media_fps,
        )
        capture.start()
        try:
            while True:
                waited = time.perf_counter()
                frame = capture.take(timeout_s=1.0)
                decode_wait_s = time.perf_counter() - waited
                if frame is None:
                    if capture.finished:
                        return
                    continue
                analyses = [
                    pipeline.analyse(frame.image, frame.captured_at) for pipeline in self.pipelines
                ]
                self._last_time = frame.captured_at
                yield TunedFrame(frame, frame.sequence + 1, analyses, decode_wait_s)
        finally:
            capture.stop()

    def close(self) -> list[list[ZoneEvent]]:
        """End events of incidents still open when the footage ended, per config."""
        if self._last_time is None:
            return [[] for _ in self.pipelines]
        return [pipeline.close(self._last_time) for pipeline in self.pipelines]

    def _on_health(self, observation: HealthObservation) -> None:
        log.debug(
            "camera %s: %s (%s)", observation.camera_id, observation.status, observation.detail
        )
