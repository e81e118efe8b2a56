"""One camera's detection pipeline: motion gate -> model -> tracker -> zone rules -> evidence.

With `detector.inference: regions` the model runs only on crops where the zones meet motion
or people already tracked (detectors/regions.py), through a shared dynamic-shape session;
the tracker then follows the boxes mapped back to the frame, as it follows full-frame boxes.

>>> pipeline = CameraPipeline("quay-cam-1", zones, site.detector, "Europe/Amsterdam",
...                           ObjectDetector(site.detector, model_file), evidence)  # doctest: +SKIP
>>> analysis = pipeline.analyse(image, frame_time)                                # doctest: +SKIP
>>> [event.phase for event in analysis.events]                                    # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np

from config.detector import Detector, InferenceMode
from config.zones import Zone
from detectors.annotate import draw_evidence
from detectors.events import AccessPhase, TrackedObjects, ZoneEvent
from detectors.evidence import EvidenceStore
from detectors.model import ObjectDetector, ObjectTracker
from detectors.motion import MotionGate
from detectors.regions import Box, Crop, RegionPlan
from detectors.rules import ZoneWatch

# Without motion the last tracked objects still stand where they were, so the model is
# skipped; it still runs this often so that a person standing perfectly still (whom the
# background model slowly absorbs) is seen again and a stale box does not linger.
STILL_SCENE_REFRESH = timedelta(seconds=5)


class RegionDetector(Protocol):
    """The model run on crops of a frame (detectors.session.ModelSession, or a camera's turn
    at the worker's shared one): rows of x1 y1 x2 y2 score class_index in frame pixels."""

    class_names: dict[int, str]

    def detect(self, image: np.ndarray, crops: Sequence[Crop]) -> np.ndarray: ...


@dataclass(frozen=True)
class StageTimes:
    """Seconds one frame spent in each stage, so a tuning run can say where the time goes."""

    motion_s: float = 0.0
    model_s: float = 0.0
    tracking_s: float = 0.0
    rules_s: float = 0.0  # zone rules and evidence snapshots


@dataclass(frozen=True)
class FrameAnalysis:
    events: list[ZoneEvent]
    objects: TrackedObjects
    moving: bool
    changed_ratio: float
    model_ran: bool
    inference_s: float  # model and tracker time; 0 when skipped
    motion_regions: tuple[tuple[int, int, int, int], ...] = ()
    detection_count: int = 0  # boxes the model reported before tracking; 0 when skipped
    stage_times: StageTimes = StageTimes()
    crop_pixels: int = 0  # model-input pixels of the crops (regions); 0 for full frames


class CameraPipeline:
    """Turns a camera's frames, in capture order, into zone events with evidence."""

    def __init__(
        self,
        camera_id: str,
        zones: Sequence[Zone],
        detector_settings: Detector,
        timezone: str,
        detector: ObjectDetector | RegionDetector,
        evidence: EvidenceStore,
    ) -> None:
        self.camera_id = camera_id
        self.timezone = timezone
        self.settings = detector_settings
        self.detector = detector
        self.evidence = evidence
        self.motion = MotionGate(detector_settings.motion_min_area)
        self.tracker = ObjectTracker(detector.class_names)
        self.watches = [ZoneWatch(zone, camera_id, timezone) for zone in zones]
        self._zones = {zone.id: zone for zone in zones}
        self._objects = TrackedObjects.none()
        self._last_model_run: datetime | None = None
        self._model_skipped = False  # the last frame went without the model
        self._regions = detector_settings.inference is InferenceMode.regions
        self._plan: RegionPlan | None = None  # made at the first frame, when its size is known

    def analyse(self, image: np.ndarray, at: datetime) -> FrameAnalysis:
        started = time.perf_counter()
        motion = self.motion.observe(image)
        stale = self._last_model_run is None or at - self._last_model_run >= STILL_SCENE_REFRESH
        run_model = motion.moving or stale or not self.settings.motion_gate
        # Regions: every zone is looked at whole when the scene was still for the refresh
        # time, not when the frames came far apart because the worker was busy: refreshing
        # then would cost most when there is least time for it.
        still = self._last_model_run is None or (stale and self._model_skipped)
        crops = self._crops(image, motion.regions, still) if run_model and self._regions else []
        run_model = run_model and (bool(crops) or not self._regions)
        self._model_skipped = not run_model
        motion_done = time.perf_counter()
        model_done = tracking_done = motion_done
        detection_count = 0
        if run_model:
            if self._regions:
                detections = self.detector.detect(image, crops)  # type: ignore[call-arg]
            else:
                detections = self.detector.detect(image)  # type: ignore[call-arg]
            model_done = time.perf_counter()
            self._objects = self.tracker.update(detections, image.shape[:2])
            tracking_done = time.perf_counter()
            detection_count = len(detections)
            self._last_model_run = at
        events = [event for watch in self.watches for event in watch.observe(self._objects, at)]
        events = [self._with_evidence(event, image) for event in events]
        rules_done = time.perf_counter()
        return FrameAnalysis(
            events=events,
            objects=self._objects,
            moving=motion.moving,
            changed_ratio=motion.changed_ratio,
            model_ran=run_model,
            inference_s=tracking_done - motion_done,
            motion_regions=motion.regions,
            detection_count=detection_count,
            stage_times=StageTimes(
                motion_s=motion_done - started,
                model_s=model_done - motion_done,
                tracking_s=tracking_done - model_done,
                rules_s=rules_done - tracking_done,
            ),
            crop_pixels=sum(crop.input_size[0] * crop.input_size[1] for crop in crops),
        )

    def _crops(self, image: np.ndarray, motion: Sequence[Box], still: bool) -> list[Crop]:
        """Where the model runs: every zone whole when the scene was still (a person
        standing perfectly still is seen again) or without the motion gate; otherwise where
        the zones meet motion and the people already tracked (who may have stopped moving)."""
        if self._plan is None:
            height, width = image.shape[:2]
            polygons = [zone.polygon for zone in self._zones.values()]
            self._plan = RegionPlan.for_settings((width, height), polygons, self.settings)
        if still or not self.settings.motion_gate:
            return self._plan.whole_zones()
        tracked = [tuple(int(v) for v in box) for box in self._objects.boxes]
        return self._plan.crops([*motion, *tracked])  # type: ignore[list-item]

    def switch_zones(self, zones: Sequence[Zone], at: datetime) -> list[ZoneEvent]:
        """Take new zone rules without dropping the camera; returns the end events of incidents
        in zones that changed or went away.

        An unchanged zone keeps its watch, so a person inside it is not reported again; a
        changed zone starts afresh, because its incidents were judged by rules no longer in force.
        """
        unchanged = {watch.zone.id: watch for watch in self.watches if watch.zone in zones}
        ended = [
            event
            for watch in self.watches
            if watch.zone.id not in unchanged
            for event in watch.close(at)
        ]
        self.watches = [
            unchanged.get(zone.id) or ZoneWatch(zone, self.camera_id, self.timezone)
            for zone in zones
        ]
        self._zones = {zone.id: zone for zone in zones}
        self._plan = None  # the crops follow the new zones from the next frame
        return ended

    def close(self, at: datetime) -> list[ZoneEvent]:
        """End every open incident: the source ended or the worker is stopping."""
        return [event for watch in self.watches for event in watch.close(at)]

    def _with_evidence(self, event: ZoneEvent, image: np.ndarray) -> ZoneEvent:
        if event.phase is not AccessPhase.start:
            return event
        label = f"{event.object_class} #{event.track_id} {event.score:.2f} {event.rule.value}"
        drawn = draw_evidence(image, self._zones[event.zone_id], event.box, label)
        return dataclasses.replace(event, snapshot_sha256=self.evidence.keep(drawn))
