"""The one way a quaywatch process declares its Prometheus metrics.

A process's metrics class derives from `ProcessMetrics`, named after the process, and
declares each metric in one call: name, help text, label names.

    class TerminalMetrics(ProcessMetrics):
        def __init__(self) -> None:
            super().__init__("terminal")
            self.rejected = self.counter("rejected", "Feed items sent ...", ["format"])

exports `quaywatch_terminal_rejected_total{format=...}`: every name is `quaywatch_<process>_`
and what the alert rules and the dashboard select (deploy/prometheus, deploy/grafana).
Each instance has a registry of its own, never the global default, so that several workers,
correlators or consoles in one process (tests, the demo) keep their series apart.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class ProcessMetrics:
    """The registry of one process and the metrics declared on it, named after the process."""

    def __init__(self, process: str, registry: CollectorRegistry | None = None) -> None:
        self.prefix = f"quaywatch_{process}_"
        self.registry = registry or CollectorRegistry()

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        """A counter; Prometheus adds `_total` to its name."""
        return Counter(self.prefix + name, documentation, labels, registry=self.registry)

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        return Gauge(self.prefix + name, documentation, labels, registry=self.registry)

    def histogram(
        self, name: str, documentation: str, labels: Sequence[str] = (), *, buckets: Sequence[float]
    ) -> Histogram:
        """A histogram; its buckets are always chosen for what it measures, never the default."""
        return Histogram(
            self.prefix + name, documentation, labels, buckets=buckets, registry=self.registry
        )
