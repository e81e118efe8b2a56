"""Console metrics: who is watching, what operators do, and how long alerts wait for them."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from quaywatch.console.board import AlertState, Board
from streams.alerts import Severity
from streams.metrics import ProcessMetrics
from streams.operator_actions import LEGACY_OUTCOME, ActionKind, CloseOutcome

# From seconds (an operator at the screen) to an hour (an alert nobody saw): the spread a
# control-room response-time target is judged on.
ACKNOWLEDGE_AGE_BUCKETS = (5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600)


class ConsoleMetrics(ProcessMetrics):
    """One registry per console, so several consoles in one process (tests) do not collide.

    Actions are counted where they are published, not where they are read back: every
    console reads every action from the topic, and counting there would count each one once
    per console (and again on every restart).
    """

    def __init__(self) -> None:
        super().__init__("console")
        self.connected_clients = self.gauge(
            "connected_clients", "Browsers holding the live alert stream open"
        )
        self.actions = self.counter("actions", "Operator actions published, by kind", ["action"])
        self.acknowledge_age = self.histogram(
            "alert_age_at_acknowledge_seconds",
            "Seconds from the alert's event time to its acknowledgement",
            buckets=ACKNOWLEDGE_AGE_BUCKETS,
        )
        self.time_to_acknowledge = self.histogram(
            "time_to_acknowledge_seconds",
            "Seconds from an alert reaching the alerts topic to its first response "
            "(acknowledge, shelve, escalate or close), by severity",
            ["severity"],
            buckets=ACKNOWLEDGE_AGE_BUCKETS,
        )
        self.closes = self.counter(
            "closes",
            "Alerts closed, by outcome (confirmed_incident, false_alarm, authorised_presence), "
            "zone and rule",
            ["outcome", "zone", "rule"],
        )
        self.rejected = self.counter(
            "records_rejected",
            "Records read and not acted on (failed the chain, signature or schema check), by topic",
            ["topic"],
        )
        for kind in ActionKind:
            if not kind.legacy:
                self.actions.labels(action=kind.value)

    def watch_board(self, board: Board) -> None:
        """Export the board's unacknowledged alerts, read at scrape time."""
        self.registry.register(_UnacknowledgedCollector(board))

    def record_action(
        self,
        kind: ActionKind,
        alert_age_seconds: float,
        zone: str,
        rule: str,
        outcome: CloseOutcome | None = None,
    ) -> None:
        self.actions.labels(action=kind.value).inc()
        if kind is ActionKind.acknowledge:
            self.acknowledge_age.observe(max(alert_age_seconds, 0.0))
        elif kind.closes:
            outcome = outcome or LEGACY_OUTCOME[kind]
            self.closes.labels(outcome=outcome.value, zone=zone, rule=rule).inc()

    def first_response(self, severity: Severity, seconds: float) -> None:
        """The alert's first response, counted once by the console that published it."""
        self.time_to_acknowledge.labels(severity=severity.value).observe(max(seconds, 0.0))


class _UnacknowledgedCollector(Collector):
    """Open alerts no operator has acknowledged yet, and how long the oldest has waited.

    Read from the board when scraped, so the age keeps growing while nobody acts, which is
    what an "unacknowledged for N minutes" alert rule needs.
    """

    def __init__(self, board: Board) -> None:
        self.board = board

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = time.time()
        waiting: dict[str, list[float]] = {severity.value: [] for severity in Severity}
        for entry in self.board.entries():
            if entry.state is AlertState.unacknowledged:
                age = max(0.0, now - entry.raised_at.timestamp())
                waiting[entry.alert.severity.value].append(age)
        count = GaugeMetricFamily(
            "quaywatch_console_unacknowledged_alerts",
            "Open alerts no operator has acknowledged, by severity",
            labels=["severity"],
        )
        oldest = GaugeMetricFamily(
            "quaywatch_console_oldest_unacknowledged_alert_age_seconds",
            "Seconds since the event time of the oldest unacknowledged alert (0: none)",
            labels=["severity"],
        )
        for severity, ages in waiting.items():
            count.add_metric([severity], len(ages))
            oldest.add_metric([severity], max(ages, default=0.0))
        yield count
        yield oldest
