"""Alert quality per zone and rule: operator closes counted by outcome."""

from __future__ import annotations

from quaywatch.console.metrics import ConsoleMetrics
from streams.operator_actions import ActionKind

CLOSES = "quaywatch_console_closes_total"


def closes(metrics: ConsoleMetrics, outcome: str, zone: str, rule: str) -> float:
    labels = {"outcome": outcome, "zone": zone, "rule": rule}
    return metrics.registry.get_sample_value(CLOSES, labels) or 0.0


def test_false_alarm_and_real_closes_are_counted_per_zone_and_rule() -> None:
    metrics = ConsoleMetrics()
    for _ in range(3):
        metrics.record_action(ActionKind.close_false_alarm, 30, "quay-q3", "intrusion")
    metrics.record_action(ActionKind.close_real, 30, "quay-q3", "intrusion")
    metrics.record_action(ActionKind.close_false_alarm, 30, "gate-lane", "line_crossing")
    assert closes(metrics, "false_alarm", "quay-q3", "intrusion") == 3
    assert closes(metrics, "confirmed_incident", "quay-q3", "intrusion") == 1
    assert closes(metrics, "false_alarm", "gate-lane", "line_crossing") == 1
    assert closes(metrics, "confirmed_incident", "gate-lane", "line_crossing") == 0


def test_acknowledge_and_escalate_are_not_closes() -> None:
    metrics = ConsoleMetrics()
    metrics.record_action(ActionKind.acknowledge, 12, "quay-q3", "intrusion")
    metrics.record_action(ActionKind.escalate, 40, "quay-q3", "intrusion")
    assert closes(metrics, "false_alarm", "quay-q3", "intrusion") == 0
    assert closes(metrics, "confirmed_incident", "quay-q3", "intrusion") == 0
