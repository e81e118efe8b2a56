"""One camera's detection pipeline: motion gate -> model -> tracker -> zone rules -> evidence.

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

import numpy as np

from config.detector import Detector
from config.zones import Zone
from detectors.annotate import draw_evidence
from detectors.events import AccessPhase, TrackedObjects, ZoneEvent
from detectors.evidence import EvidenceStore
from detectors.model import ObjectDetector, ObjectTracker
from detectors.motion import MotionGate
from detectors.rules import ZoneWatch

# Without motion the last tracked objects still stand where they were, so the model is
# skipped; it still runs this often so that a person standing perfectly still (whom the
# background model slowly absorbs) is seen again and a stale box does not linger.
STILL_SCENE_REFRESH = timedelta(seconds=5)


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


class CameraPipeline:
    """Turns a camera's frames, in capture order, into zone events with evidence."""

    def __init__(
        self,
        camera_id: str,
        zones: Sequence[Zone],
        detector_settings: Detector,
        timezone: str,
        detector: ObjectDetector,
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

    def analyse(self, image: np.ndarray, at: datetime) -> FrameAnalysis:
        started = time.perf_counter()
        motion = self.motion.observe(image)
        motion_done = time.perf_counter()
        stale = self._last_model_run is None or at - self._last_model_run >= STILL_SCENE_REFRESH
        run_model = motion.moving or stale or not self.settings.motion_gate
        model_done = tracking_done = motion_done
        detection_count = 0
        if run_model:
            detections = self.detector.detect(image)
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
        )

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
