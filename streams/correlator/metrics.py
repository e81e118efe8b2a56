"""Prometheus metrics of one correlator process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class CorrelatorMetrics:
    """Counters and gauges on their own registry, so several correlators can share a process."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.events_consumed = Counter(
            "quaywatch_correlator_events_consumed",
            "Events read, by topic",
            ["topic"],
            registry=self.registry,
        )
        self.alerts = Counter(
            "quaywatch_correlator_alerts",
            "Alert revisions published, by severity",
            ["severity"],
            registry=self.registry,
        )
        self.revisions = Counter(
            "quaywatch_correlator_revisions",
            "Alert revisions after the first (late terminal news)",
            registry=self.registry,
        )
        self.latency = Histogram(
            "quaywatch_correlator_latency_seconds",
            "From the event time a revision reflects to its acknowledged publication",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600),
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "quaywatch_correlator_consumer_lag",
            "Access records not yet read: high-water mark from the broker minus position",
            ["partition"],
            registry=self.registry,
        )
        self.containers = Gauge(
            "quaywatch_correlator_containers", "Containers in the table", registry=self.registry
        )
        self.open_alerts = Gauge(
            "quaywatch_correlator_open_alerts",
            "Alerts still within their grace period",
            registry=self.registry,
        )
        self.rejected = Counter(
            "quaywatch_correlator_rejected",
            "Records that could not be decoded, by topic",
            ["topic"],
            registry=self.registry,
        )
