"""Prometheus metrics of the camera worker, in one registry per worker.

Counters end in `_total` and carry their unit in the name (`_seconds`); per-camera series are
labelled `camera`, event series `zone` and `rule`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from config.kafka import Kafka
from detectors.events import ZoneEvent
from detectors.pipeline import FrameAnalysis
from ingest.capture import CameraCapture
from ingest.frames import CameraStatus, HealthObservation
from streams.health import BrokerProbe, HealthServer, serve_health
from streams.metrics import ProcessMetrics
from streams.publisher import Publisher

# Inference on a CPU takes tens to hundreds of milliseconds; buckets resolve that range.
INFERENCE_BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0)
# From a frame reaching the worker to its events reaching the publisher: waiting for the
# camera's turn at the shared model is most of it when the worker is loaded.
LATENCY_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


class _PublisherCollector(Collector):
    """Reads the publisher's own totals at scrape time, so they are never out of step."""

    def __init__(self, publisher: Publisher) -> None:
        self.publisher = publisher

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        counters = self.publisher.counters
        yield GaugeMetricFamily(
            "quaywatch_worker_spool_depth_events",
            "Events accepted and not yet acknowledged by Kafka",
            value=self.publisher.spool_depth,
        )
        errors = CounterMetricFamily(
            "quaywatch_worker_publish_errors",
            "Failed sends, failed connections and events refused by a full spool",
            labels=["kind"],
        )
        errors.add_metric(["send"], counters.send_errors)
        errors.add_metric(["connect"], counters.connect_errors)
        errors.add_metric(["spool_full"], counters.refused)
        yield errors
        yield CounterMetricFamily(
            "quaywatch_worker_events_delivered",
            "Events Kafka acknowledged",
            value=counters.delivered,
        )


class WorkerMetrics(ProcessMetrics):
    def __init__(self, publisher: Publisher) -> None:
        super().__init__("worker")
        self.frames_read = self.counter("frames_read", "Frames read from the source", ["camera"])
        self.frames_dropped = self.counter(
            "frames_dropped",
            "Sampled frames replaced by a newer one before the detector took them",
            ["camera"],
        )
        self.frames_processed = self.counter("frames_processed", "Frames analysed", ["camera"])
        self.frames_with_motion = self.counter(
            "frames_with_motion", "Analysed frames in which something moved", ["camera"]
        )
        self.model_runs = self.counter("model_runs", "Analysed frames the model ran on", ["camera"])
        self.motion_ratio = self.gauge(
            "motion_ratio", "Share of analysed frames with motion since start", ["camera"]
        )
        self.inference_seconds = self.histogram(
            "inference_seconds",
            "Model and tracker time per frame",
            ["camera"],
            buckets=INFERENCE_BUCKETS_S,
        )
        self.frame_to_event_seconds = self.histogram(
            "frame_to_event_seconds",
            "From a frame reaching the worker to its access events handed to the publisher",
            ["camera"],
            buckets=LATENCY_BUCKETS_S,
        )
        self.events = self.counter(
            "access_events", "Access events handed to the publisher", ["zone", "rule", "phase"]
        )
        self.camera_online = self.gauge(
            "camera_online", "1 while the camera delivers a usable picture", ["camera"]
        )
        # One series per state, 1 for the current one: alert rules tell frozen from covered.
        self.camera_status_gauge = self.gauge(
            "camera_status",
            "1 for the camera's current state (online, offline, frozen, blacked_out, moved)",
            ["camera", "status"],
        )
        self.registry.register(_PublisherCollector(publisher))
        self._reported: dict[str, tuple[int, int]] = {}
        self._processed: dict[str, tuple[int, int]] = {}

    def serve(self, port: int, kafka: Kafka, host: str = "127.0.0.1") -> HealthServer | None:
        """Serve /metrics and /healthz (Kafka reachable) on host:port; port 0: not served."""
        return serve_health(self.registry, BrokerProbe(kafka), host, port)

    def capture_progress(self, camera_id: str, capture: CameraCapture) -> None:
        read, dropped = self._reported.get(camera_id, (0, 0))
        self.frames_read.labels(camera_id).inc(capture.frames_read - read)
        self.frames_dropped.labels(camera_id).inc(capture.frames_dropped - dropped)
        self._reported[camera_id] = (capture.frames_read, capture.frames_dropped)

    capture_finished = capture_progress

    def frame_analysed(self, camera_id: str, analysis: FrameAnalysis) -> None:
        self.frames_processed.labels(camera_id).inc()
        processed, moving = self._processed.get(camera_id, (0, 0))
        processed, moving = processed + 1, moving + int(analysis.moving)
        self._processed[camera_id] = (processed, moving)
        self.motion_ratio.labels(camera_id).set(moving / processed)
        if analysis.moving:
            self.frames_with_motion.labels(camera_id).inc()
        if analysis.model_ran:
            self.model_runs.labels(camera_id).inc()
            self.inference_seconds.labels(camera_id).observe(analysis.inference_s)

    def events_of_frame(self, camera_id: str, received_s: float, events: int) -> None:
        """Latency of a frame whose events were just handed to the publisher."""
        if events:
            self.frame_to_event_seconds.labels(camera_id).observe(time.monotonic() - received_s)

    def event_published(self, event: ZoneEvent) -> None:
        self.events.labels(event.zone_id, event.rule.value, event.phase.value).inc()

    def camera_status(self, observation: HealthObservation) -> None:
        online = observation.status is CameraStatus.online
        self.camera_online.labels(observation.camera_id).set(1 if online else 0)
        for status in CameraStatus:
            current = status is observation.status
            self.camera_status_gauge.labels(observation.camera_id, status.value).set(int(current))
