"""The camera worker process: several cameras (streams.worker.camera), one spooling publisher so
a broker outage loses nothing, one evidence store, and the site file watched for changes.

A camera that cannot be opened is logged and reported offline; the other cameras keep
running. A changed site file (or SIGHUP) switches the cameras' zone rules without dropping
them; a config that does not load is refused and the one in force is kept.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from config.detector import InferenceMode
from config.loading import ConfigError, load_site
from config.site import SiteConfig
from detectors.clips import ClipStore
from detectors.evidence import EvidenceStore
from detectors.faster import region_model
from detectors.model import model_identity, resolve_model
from detectors.session import ModelSession
from streams.publisher import Publisher
from streams.worker.camera import CameraWorker, SharedByCameras
from streams.worker.metrics import WorkerMetrics
from streams.worker.scheduling import SharedModel

log = logging.getLogger(__name__)

FLUSH_TIMEOUT_S = 30.0


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
        self.config_hash = site.config_hash()
        self.config_path = config_path
        self._config_mtime = self._mtime()
        self._reload_requested = threading.Event()
        self.cameras = [site.camera(camera_id) for camera_id in camera_ids] or [
            camera for camera in site.cameras if camera.enabled
        ]
        # Region inference: one session for all cameras, of the dynamic model in the form the
        # site asks for (a faster one only once it passed its accuracy gate).
        self.region_model: SharedModel | None = None
        if site.detector.inference is InferenceMode.regions:
            model_file = region_model(site)
            session = ModelSession(site.detector, model_file)
            self.region_model = SharedModel(session, site.detector.batch_crops)
        else:
            model_file = resolve_model(site.detector, Path(site.data_dir))
        self.model = model_identity(model_file)
        names = "-".join(camera.id for camera in self.cameras)
        client_id = re.sub(r"[^A-Za-z0-9_.-]", "_", f"worker-{site.site.id}-{names}")[:120]
        self.publisher = publisher or Publisher(
            site.kafka, Path(site.data_dir) / "spool" / client_id, site.spool.max_bytes, client_id
        )
        self.metrics = WorkerMetrics(self.publisher)
        self.stopping = threading.Event()
        shared = SharedByCameras(
            publisher=self.publisher,
            metrics=self.metrics,
            evidence=EvidenceStore(Path(site.data_dir) / "snapshots"),
            model=self.model,
            started_at=datetime.now(UTC),
            stop_after_s=stop_after_s,
            stopping=self.stopping,
            clips=ClipStore(Path(site.data_dir) / "clips"),
            region_model=self.region_model,
        )
        self.camera_workers = [CameraWorker(camera, site, shared) for camera in self.cameras]

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
        if self.region_model is not None:
            self.region_model.start()
        for camera_worker in self.camera_workers:
            camera_worker.thread.start()
        for camera_worker in self.camera_workers:
            while camera_worker.thread.is_alive():
                camera_worker.thread.join(timeout=0.5)
                self._reload_if_changed()
        if self.region_model is not None:
            self.region_model.stop()
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
