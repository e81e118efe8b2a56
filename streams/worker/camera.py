"""One camera of the worker: each frame the capture takes is analysed by the detectors, and
each zone event that comes out is published on `access` as an AccessEvent.

The capture reads the source in its own thread and reports the camera's health (the source
going and coming, the picture freezing, going dark or moving); those observations are
published on `camera-health`. A zone switch (a reloaded site file) happens between two frames,
so every event is stamped with the config it was raised under; the incidents still open when
the camera stops are closed at the last frame's time.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from config.cameras import Camera
from config.site import SiteConfig
from detectors.annotate import AnalysisAnnotator, Firings
from detectors.clips import ClipStore, IncidentClips
from detectors.events import AccessPhase, ZoneEvent
from detectors.evidence import EvidenceStore
from detectors.model import ModelIdentity, ObjectDetector
from detectors.pipeline import CameraPipeline, FrameAnalysis, RegionDetector
from ingest.capture import CameraCapture
from ingest.frames import CameraStatus, HealthObservation
from ingest.sources import SourceError
from streams.access import AccessEvent
from streams.camera_health import CameraHealth
from streams.publisher import Publisher
from streams.spool import SpoolFull
from streams.topics import ACCESS, CAMERA_HEALTH
from streams.worker.live import LiveView
from streams.worker.metrics import WorkerMetrics
from streams.worker.scheduling import SharedModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SharedByCameras:
    """What every camera of one worker process uses: where messages go, where evidence is
    kept, the model that stamps events, and when and for how long the process watches."""

    publisher: Publisher
    metrics: WorkerMetrics
    evidence: EvidenceStore
    model: ModelIdentity
    started_at: datetime
    stop_after_s: float | None
    stopping: threading.Event
    clips: ClipStore | None = None  # None: no clips, no live view (tests of the rules alone)
    # The one model session of the worker when it runs region inference; None: each camera
    # runs the full-frame model itself.
    region_model: SharedModel | None = None


class CameraWorker:
    """Reads, analyses and publishes one camera until its source ends or the worker stops."""

    def __init__(self, camera: Camera, site: SiteConfig, shared: SharedByCameras) -> None:
        self.camera = camera
        self.shared = shared
        self.failed: str | None = None
        # The config this camera's events are stamped with, and one waiting to be switched
        # to between two frames (set by Worker.reload from the main thread).
        self._stamp_with(site)
        self.pending_site: SiteConfig | None = None
        self.thread = threading.Thread(target=self._run, name=f"camera-{camera.id}", daemon=True)

    def _run(self) -> None:
        shared = self.shared
        capture = CameraCapture(
            self.camera, shared.started_at, self.report_health, shared.stop_after_s
        )
        try:
            capture.start()
            pipeline = CameraPipeline(
                self.camera.id,
                self.site.zones_of(self.camera.id),
                self.site.detector,
                self.site.site.timezone,
                self._detector(),
                shared.evidence,
            )
        except SourceError as error:
            self.failed = str(error)
            log.error("%s; this camera is not watched, the others go on", error)
            self.report_health(
                HealthObservation(
                    self.camera.id, CameraStatus.offline, datetime.now(UTC), str(error)
                )
            )
            return
        try:
            self._watch(capture, pipeline)
        except Exception as error:
            self.failed = f"camera {self.camera.id}: analysis stopped: {error}"
            log.exception("camera %s: analysis stopped; the other cameras go on", self.camera.id)
        finally:
            capture.stop()
            shared.metrics.capture_finished(self.camera.id, capture)

    def _watch(self, capture: CameraCapture, pipeline: CameraPipeline) -> None:
        metrics = self.shared.metrics
        last_time: datetime | None = None
        footage = _Footage.of(self.camera, self.site, self.shared.clips)
        while not self.shared.stopping.is_set():
            frame = capture.take(timeout_s=0.5)
            metrics.capture_progress(self.camera.id, capture)
            if frame is None:
                if capture.finished:
                    break
                continue
            last_time = frame.captured_at
            if self.pending_site is not None:
                self._switch_site(pipeline, frame.captured_at, footage)
            analysis = pipeline.analyse(frame.image, frame.captured_at)
            metrics.frame_analysed(self.camera.id, analysis)
            events = analysis.events
            if footage is not None:
                events = footage.observe(frame.image, frame.sequence, frame.captured_at, analysis)
            self._publish(events)
            # The frame's own events: a clip's update or a held end belongs to an earlier frame.
            metrics.events_of_frame(self.camera.id, frame.received_s, len(analysis.events))
        ends = pipeline.close(last_time) if last_time is not None else []
        if footage is not None:
            ends = footage.close(ends)
        self._publish(ends)

    def _detector(self) -> ObjectDetector | RegionDetector:
        if self.shared.region_model is not None:
            return self.shared.region_model.for_camera(self.camera.id)
        return ObjectDetector(self.site.detector, self.shared.model.path)

    def _switch_site(
        self, pipeline: CameraPipeline, at: datetime, footage: _Footage | None
    ) -> None:
        site, self.pending_site = self.pending_site, None
        assert site is not None
        # Incidents of zones that changed end under the config that opened them.
        ends = pipeline.switch_zones(site.zones_of(self.camera.id), at)
        if footage is not None:
            ends = footage.switch_zones(site, ends)
        self._publish(ends)
        self._stamp_with(site)
        log.info(
            "camera %s: zone rules switched to config %s", self.camera.id, self.config_hash[:12]
        )

    def _stamp_with(self, site: SiteConfig) -> None:
        """Stamp events from now on with `site`: its hash and zones, worked out once here
        rather than for every frame."""
        self.site, self.config_hash = site, site.config_hash()
        self.zones = {zone.id: zone for zone in site.zones}

    def _publish(self, events: Iterable[ZoneEvent]) -> None:
        """Publish zone events as access events, stamped with the config in force here."""
        for event in events:
            message = AccessEvent.from_zone_event(
                event,
                site_id=self.site.site.id,
                zone=self.zones[event.zone_id],
                model=self.shared.model,
                config_hash=self.config_hash,
            )
            self.shared.metrics.event_published(event)
            # A full spool is logged and counted by the publisher; the camera goes on watching.
            with contextlib.suppress(SpoolFull):
                self.shared.publisher.publish(ACCESS, message)

    def report_health(self, observation: HealthObservation) -> None:
        """Count and publish a change in what the camera delivers (called by the capture)."""
        log.info(
            "camera %s is %s: %s", observation.camera_id, observation.status, observation.detail
        )
        self.shared.metrics.camera_status(observation)
        message = CameraHealth.from_observation(self.site.site.id, observation)
        with contextlib.suppress(SpoolFull):
            self.shared.publisher.publish(CAMERA_HEALTH, message)


class _Footage:
    """A camera's annotated frames: the live view, and the clips around incidents' starts."""

    def __init__(self, camera: Camera, site: SiteConfig, clips: ClipStore) -> None:
        self.camera_id = camera.id
        self.annotator = AnalysisAnnotator(site.zones_of(camera.id), camera.id)
        self.live = LiveView(site.data_dir, camera.id)
        self.clips = IncidentClips(clips, fps=camera.target_fps)
        self.firing: dict[int, str] = {}  # track id -> zone, while its incident is open

    @classmethod
    def of(cls, camera: Camera, site: SiteConfig, clips: ClipStore | None) -> _Footage | None:
        return None if clips is None else cls(camera, site, clips)

    def observe(
        self, image: object, sequence: int, at: datetime, analysis: FrameAnalysis
    ) -> list[ZoneEvent]:
        for event in analysis.events:
            if event.phase is AccessPhase.end:
                self.firing.pop(event.track_id, None)
            else:
                self.firing[event.track_id] = event.zone_id
        annotated = self.annotator.annotate(
            image, analysis, Firings(tracks=dict(self.firing)), sequence, at
        )
        problem = self.live.problem
        self.live.offer(annotated)
        if self.live.problem and self.live.problem != problem:
            log.warning("camera %s: %s", self.camera_id, self.live.problem)
        return self._logged(self.clips.observe(annotated, at, analysis.objects, analysis.events))

    def switch_zones(self, site: SiteConfig, ends: list[ZoneEvent]) -> list[ZoneEvent]:
        """Draw the new zones from now on; ends of incidents with a clip in making wait."""
        self.annotator = AnalysisAnnotator(site.zones_of(self.camera_id), self.camera_id)
        return self.clips.observe_ends(ends)

    def close(self, ends: list[ZoneEvent]) -> list[ZoneEvent]:
        # The last ends may be held for a clip; closing writes every clip and lets them go.
        held = self.clips.observe_ends(ends)
        return self._logged(held + self.clips.close())

    def _logged(self, events: list[ZoneEvent]) -> list[ZoneEvent]:
        while self.clips.failures:
            log.warning("camera %s: clip not kept: %s", self.camera_id, self.clips.failures.pop())
        return events
