"""Alert quality per zone and rule: operator closes counted by outcome."""

from __future__ import annotations

from quaywatch.console.metrics import ConsoleMetrics
from streams.alerts import Severity
from streams.operator_actions import ActionKind, CloseOutcome

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


def test_time_to_acknowledge_is_a_histogram_by_severity() -> None:
    metrics = ConsoleMetrics()
    metrics.first_response(Severity.critical, 12.0)
    metrics.first_response(Severity.critical, 400.0)
    metrics.first_response(Severity.high, 3.0)
    sample = metrics.registry.get_sample_value
    name = "quaywatch_console_time_to_acknowledge_seconds"
    assert sample(f"{name}_count", {"severity": "critical"}) == 2
    assert sample(f"{name}_sum", {"severity": "critical"}) == 412.0
    assert sample(f"{name}_bucket", {"severity": "critical", "le": "20.0"}) == 1
    assert sample(f"{name}_bucket", {"severity": "high", "le": "5.0"}) == 1


def test_each_outcome_of_a_close_is_counted_under_its_own_name() -> None:
    metrics = ConsoleMetrics()
    for outcome in CloseOutcome:
        metrics.record_action(ActionKind.close, 30, "quay-q3", "intrusion", outcome=outcome)
    assert [closes(metrics, o.value, "quay-q3", "intrusion") for o in CloseOutcome] == [1, 1, 1]
