"""Prometheus metrics of one correlator process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from streams.metrics import ProcessMetrics


class CorrelatorMetrics(ProcessMetrics):
    """Counters and gauges on their own registry, so several correlators can share a process."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        super().__init__("correlator", registry)
        self.events_consumed = self.counter("events_consumed", "Events read, by topic", ["topic"])
        self.alerts = self.counter("alerts", "Alert revisions published, by severity", ["severity"])
        self.revisions = self.counter(
            "revisions", "Alert revisions after the first (late terminal news)"
        )
        self.latency = self.histogram(
            "latency_seconds",
            "From the event time a revision reflects to its acknowledged publication",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600),
        )
        self.consumer_lag = self.gauge(
            "consumer_lag",
            "Access records not yet read: high-water mark from the broker minus position",
            ["partition"],
        )
        self.containers = self.gauge("containers", "Containers in the table")
        self.open_alerts = self.gauge("open_alerts", "Alerts still within their grace period")
        self.rejected = self.counter(
            "rejected", "Records that could not be decoded, by topic", ["topic"]
        )
