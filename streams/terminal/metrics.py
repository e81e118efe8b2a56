"""Prometheus metrics of a terminal feed endpoint: what the feeds delivered, and when last."""

from __future__ import annotations

from enum import StrEnum

from streams.metrics import ProcessMetrics
from streams.terminal.publish import Published


class Refusal(StrEnum):
    """Why a callback was refused: the `reason` label of the refusal metric."""

    unknown_subscription = "unknown_subscription"
    unsigned = "unsigned"
    bad_signature = "bad_signature"
    # Not about authenticity: what the endpoint will not read, whoever sent it.
    bad_length = "bad_length"
    too_large = "too_large"
    busy = "busy"
    not_text = "not_text"
    slow = "slow"


class TerminalMetrics(ProcessMetrics):
    """On its own registry, like the other processes' metrics."""

    def __init__(self) -> None:
        super().__init__("terminal")
        self.container_events = self.counter(
            "container_events",
            "Container events published to the terminal topic, by feed format",
            ["format"],
        )
        self.rejected = self.counter(
            "rejected", "Feed items sent to the dead-letter topic, by feed format", ["format"]
        )
        self.callbacks_refused = self.counter(
            "callbacks_refused",
            "DCSA callbacks refused before anything was published, by reason "
            f"({', '.join(Refusal)})",
            ["reason"],
        )
        self.callback_body_bytes = self.gauge(
            "callback_body_bytes", "Bytes of DCSA callback bodies being read or judged now"
        )
        # A silent feed looks exactly like a quiet terminal in the counters; the time of the
        # last event lets an alert rule say "nothing from the terminal for N minutes".
        self.last_event = self.gauge(
            "last_event_timestamp_seconds", "Unix time the last container event was published"
        )

    def refused(self, reason: Refusal) -> None:
        self.callbacks_refused.labels(reason).inc()

    def published(self, feed_format: str, published: Published) -> Published:
        self.container_events.labels(feed_format).inc(published.container_events)
        self.rejected.labels(feed_format).inc(published.rejected)
        if published.container_events:
            self.last_event.set_to_current_time()
        return published
