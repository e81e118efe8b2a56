"""The camera worker: one process, several cameras, each read -> analysed -> published.

Per camera one capture thread (ingest) and one analysis thread (detectors); zone events
become AccessEvent messages and camera health becomes CameraHealth messages, both handed to
the spooling Publisher so a broker outage loses nothing. A camera that cannot be opened is
logged and reported offline; the other cameras keep running. A changed site file (or SIGHUP)
switches the cameras' zone rules without dropping them; a config that does not load is
refused and the one in force is kept.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from config.cameras import Camera
from config.loading import ConfigError, load_site
from config.site import SiteConfig
from config.zones import Zone
from detectors.events import ZoneEvent, derived_id
from detectors.evidence import EvidenceStore
from detectors.model import ModelIdentity, ObjectDetector, model_identity, resolve_model
from detectors.pipeline import CameraPipeline
from ingest.capture import CameraCapture
from ingest.frames import CameraStatus, HealthObservation
from ingest.health import PictureHealth
from ingest.sources import SourceError
from streams.access import AccessEvent, BoundingBox
from streams.camera_health import CameraHealth
from streams.publisher import Publisher
from streams.spool import SpoolFull
from streams.topics import ACCESS, CAMERA_HEALTH
from streams.worker.metrics import WorkerMetrics

log = logging.getLogger(__name__)

FLUSH_TIMEOUT_S = 30.0


def access_event(
    site: SiteConfig, zone: Zone, event: ZoneEvent, model: ModelIdentity, config_hash: str
) -> AccessEvent:
    """The message for a zone event; its id derives from the event, so a replay repeats it."""
    x1, y1, x2, y2 = event.box
    return AccessEvent.create(
        event_id=event.event_id,
        event_time=event.at,
        site_id=site.site.id,
        camera_id=event.camera_id,
        zone_id=zone.id,
        yard_blocks=list(zone.yard_blocks),
        rule=event.rule,
        phase=event.phase,
        incident_id=event.incident_id,
        track_id=event.track_id,
        object_class=event.object_class,
        score=min(1.0, max(0.0, event.score)),
        box=BoundingBox(x1=x1, y1=y1, x2=x2, y2=y2),
        crossing_direction=event.crossing_direction,
        snapshot_sha256=event.snapshot_sha256,
        model_name=model.name,
        model_sha256=model.sha256,
        config_hash=config_hash,
    )


def camera_health(site_id: str, observation: HealthObservation) -> CameraHealth:
    return CameraHealth.create(
        event_id=derived_id(
            observation.camera_id, observation.status.value, observation.at.isoformat()
        ),
        event_time=observation.at,
        site_id=site_id,
        camera_id=observation.camera_id,
        status=observation.status,
        detail=observation.detail,
    )


class CameraWorker:
    """Reads, analyses and publishes one camera until its source ends or the worker stops."""

    def __init__(self, worker: Worker, camera: Camera) -> None:
        self.worker = worker
        self.camera = camera
        self.failed: str | None = None
        # The config this camera's events are stamped with, and one waiting to be switched
        # to between two frames (set by Worker.reload from the main thread).
        self.site = worker.site
        self.config_hash = worker.config_hash
        self.pending_site: SiteConfig | None = None
        self.thread = threading.Thread(target=self._run, name=f"camera-{camera.id}", daemon=True)

    def _run(self) -> None:
        worker = self.worker
        capture = CameraCapture(
            self.camera, worker.started_at, worker.report_health, worker.stop_after_s
        )
        try:
            capture.start()
            pipeline = CameraPipeline(
                self.camera.id,
                worker.site.zones_of(self.camera.id),
                worker.site.detector,
                worker.site.site.timezone,
                ObjectDetector(worker.site.detector, worker.model.path),
                worker.evidence,
            )
        except SourceError as error:
            self.failed = str(error)
            log.error("%s; this camera is not watched, the others go on", error)
            worker.report_health(
                HealthObservation(
                    self.camera.id, CameraStatus.offline, datetime.now(UTC), str(error)
                )
            )
            return
        try:
            self._analyse(capture, pipeline)
        except Exception as error:
            self.failed = f"camera {self.camera.id}: analysis stopped: {error}"
            log.exception("camera %s: analysis stopped; the other cameras go on", self.camera.id)
        finally:
            capture.stop()
            worker.metrics.capture_finished(self.camera.id, capture)

    def _analyse(self, capture: CameraCapture, pipeline: CameraPipeline) -> None:
        worker = self.worker
        picture = PictureHealth()
        last_time: datetime | None = None
        while not worker.stopping.is_set():
            frame = capture.take(timeout_s=0.5)
            worker.metrics.capture_progress(self.camera.id, capture)
            if frame is None:
                if capture.finished:
                    break
                continue
            last_time = frame.captured_at
            if self.pending_site is not None:
                self._switch_site(pipeline, frame.captured_at)
            observation = picture.observe(frame)
            if observation is not None:
                worker.report_health(observation)
            analysis = pipeline.analyse(frame.image, frame.captured_at)
            worker.metrics.frame_analysed(self.camera.id, analysis)
            for event in analysis.events:
                worker.publish_zone_event(event, self.site, self.config_hash)
        if last_time is not None:
            for event in pipeline.close(last_time):
                worker.publish_zone_event(event, self.site, self.config_hash)

    def _switch_site(self, pipeline: CameraPipeline, at: datetime) -> None:
        site, self.pending_site = self.pending_site, None
        assert site is not None
        # Incidents of zones that changed end under the config that opened them.
        for event in pipeline.switch_zones(site.zones_of(self.camera.id), at):
            self.worker.publish_zone_event(event, self.site, self.config_hash)
        self.site, self.config_hash = site, site.config_hash()
        log.info(
            "camera %s: zone rules switched to config %s", self.camera.id, self.config_hash[:12]
        )


class Worker:
    """All cameras of one worker process, sharing one publisher and one evidence store."""

    def __init__(
        self,
        site: SiteConfig,
        camera_ids: Sequence[str] = (),
        publisher: Publisher | None = None,
        stop_after_s: float | None = None,
        config_path: Path | None = None,
    ) -> None:
        self.site = site
        self.config_path = config_path
        self._config_mtime = self._mtime()
        self._reload_requested = threading.Event()
        self.cameras = [site.camera(camera_id) for camera_id in camera_ids] or [
            camera for camera in site.cameras if camera.enabled
        ]
        self.stop_after_s = stop_after_s
        self.started_at = datetime.now(UTC)
        self.stopping = threading.Event()
        self.config_hash = site.config_hash()
        self.model = model_identity(resolve_model(site.detector, Path(site.data_dir)))
        self.evidence = EvidenceStore(Path(site.data_dir) / "snapshots")
        names = "-".join(camera.id for camera in self.cameras)
        client_id = re.sub(r"[^A-Za-z0-9_.-]", "_", f"worker-{site.site.id}-{names}")[:120]
        self.publisher = publisher or Publisher(
            site.kafka, Path(site.data_dir) / "spool" / client_id, site.spool.max_bytes, client_id
        )
        self.metrics = WorkerMetrics(self.publisher)
        self.camera_workers = [CameraWorker(self, camera) for camera in self.cameras]

    def run(self) -> int:
        """Watch every camera until all sources ended or stop() was called.

        Returns 0 when every camera ran, 1 when any could not be opened or failed.
        """
        log.info(
            "watching %s with model %s (sha256 %s), config %s",
            ", ".join(camera.id for camera in self.cameras),
            self.model.name,
            self.model.sha256[:12],
            self.config_hash[:12],
        )
        for camera_worker in self.camera_workers:
            camera_worker.thread.start()
        for camera_worker in self.camera_workers:
            while camera_worker.thread.is_alive():
                camera_worker.thread.join(timeout=0.5)
                self._reload_if_changed()
        if not self.publisher.flush(FLUSH_TIMEOUT_S):
            log.warning("%d events not yet in Kafka; they stay spooled", self.publisher.spool_depth)
        failures = [cw.failed for cw in self.camera_workers if cw.failed]
        return 1 if failures else 0

    def stop(self) -> None:
        self.stopping.set()

    def request_reload(self) -> None:
        """Read the site file again at the next check (SIGHUP)."""
        self._reload_requested.set()

    def reload(self) -> bool:
        """Validate the site file and, if it loads and differs only in zones, switch every
        camera's zone rules to it between two frames. Returns whether it switched."""
        if self.config_path is None:
            return False
        try:
            site = load_site(self.config_path)
        except (ConfigError, OSError) as error:
            log.error(
                "config reload refused, config %s stays in force:\n%s", self.config_hash[:12], error
            )
            return False
        if site.config_hash() == self.config_hash:
            return False
        # Only zones switch live: a new model, camera or broker needs the process rebuilt,
        # and stamping events with a hash whose other parts are not in force would lie.
        fixed = site.model_dump(exclude={"zones"}) != self.site.model_dump(exclude={"zones"})
        if fixed:
            log.error(
                "config reload refused: %s changed outside `zones`; restart the worker for "
                "that. Config %s stays in force",
                self.config_path,
                self.config_hash[:12],
            )
            return False
        log.info(
            "config %s loaded from %s; switching zones", site.config_hash()[:12], self.config_path
        )
        self.site, self.config_hash = site, site.config_hash()
        for camera_worker in self.camera_workers:
            camera_worker.pending_site = site
        return True

    def _reload_if_changed(self) -> None:
        mtime = self._mtime()
        if self._reload_requested.is_set() or mtime != self._config_mtime:
            self._reload_requested.clear()
            self._config_mtime = mtime
            self.reload()

    def _mtime(self) -> int | None:
        if self.config_path is None:
            return None
        try:
            return os.stat(self.config_path).st_mtime_ns
        except OSError:
            return None

    def publish_zone_event(
        self, event: ZoneEvent, site: SiteConfig | None = None, config_hash: str | None = None
    ) -> None:
        """Publish a zone event stamped with the config it was raised under (default: the
        worker's newest)."""
        site = site or self.site
        zone = next(z for z in site.zones if z.id == event.zone_id)
        message = access_event(site, zone, event, self.model, config_hash or self.config_hash)
        self.metrics.event_published(event)
        # A full spool is logged and counted by the publisher; the camera goes on watching.
        with contextlib.suppress(SpoolFull):
            self.publisher.publish(ACCESS, message)

    def report_health(self, observation: HealthObservation) -> None:
        log.info(
            "camera %s is %s: %s", observation.camera_id, observation.status, observation.detail
        )
        self.metrics.camera_status(observation)
        message = camera_health(self.site.site.id, observation)
        with contextlib.suppress(SpoolFull):
            self.publisher.publish(CAMERA_HEALTH, message)
