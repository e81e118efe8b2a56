"""The alert rules and the Grafana dashboard are well-formed and name only exported metrics."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import yaml
from prometheus_client import generate_latest

from quaywatch.console.board import Board
from quaywatch.console.metrics import ConsoleMetrics
from streams.correlator.metrics import CorrelatorMetrics
from streams.publisher import PublisherCounters
from streams.terminal.metrics import TerminalMetrics
from streams.worker.metrics import WorkerMetrics
from tests.monitoring import (
    DASHBOARD,
    PROMETHEUS_OWN,
    RULES,
    exported_names,
    promql_metric_names,
    rule_expressions,
    used_metric_names,
)

ISSUE_ALERTS = {
    "camera offline": "QuaywatchCameraOffline",
    "camera frozen": "QuaywatchCameraFrozen",
    "camera covered": "QuaywatchCameraCovered",
    "frames dropped": "QuaywatchFramesDropped",
    "spool growing": "QuaywatchSpoolGrowing",
    "consumer lag growing": "QuaywatchConsumerLagGrowing",
    "no terminal events": "QuaywatchNoTerminalEvents",
    "alerts unacknowledged": "QuaywatchAlertUnacknowledged",
}


@pytest.fixture(scope="module")
def exported() -> set[str]:
    """Names the code's registries export, built in this process (the integration test
    scrapes the running processes as well)."""
    publisher = SimpleNamespace(counters=PublisherCounters(), spool_depth=0)
    console = ConsoleMetrics()
    console.watch_board(Board())
    registries = [
        WorkerMetrics(publisher).registry,  # type: ignore[arg-type]
        CorrelatorMetrics().registry,
        console.registry,
        TerminalMetrics().registry,
    ]
    names: set[str] = set()
    for registry in registries:
        names |= exported_names(generate_latest(registry).decode())
    return names


def test_rule_file_has_groups_of_complete_rules() -> None:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    seen: set[str] = set()
    for group in groups:
        assert group["name"] and group["rules"], group
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
            assert rule["alert"] not in seen, f"duplicate alert {rule['alert']}"
            seen.add(rule["alert"])
            assert rule["labels"]["severity"] in {"page", "ticket"}, rule["alert"]
            assert rule["annotations"]["summary"], rule["alert"]
            assert rule["expr"].count("(") == rule["expr"].count(")"), rule["alert"]
            assert "for" not in rule or rule["for"][-1] in "smh", rule["alert"]


def test_every_alert_the_issue_asks_for_exists() -> None:
    missing = {what: name for what, name in ISSUE_ALERTS.items() if name not in rule_expressions()}
    assert not missing


def test_every_rule_and_panel_selects_a_quaywatch_metric() -> None:
    from tests.monitoring import dashboard_expressions

    for where, expr in {**rule_expressions(), **dashboard_expressions()}.items():
        assert any(n.startswith("quaywatch_") for n in promql_metric_names(expr)) or (
            promql_metric_names(expr) <= PROMETHEUS_OWN
        ), f"{where}: {expr}"


def test_every_metric_used_is_exported_by_the_code(exported: set[str]) -> None:
    unknown = {
        name: sorted(where)
        for name, where in used_metric_names().items()
        if name not in exported | PROMETHEUS_OWN
    }
    assert not unknown, f"used but not exported: {unknown}"


def test_durations_carry_their_unit_in_the_name(exported: set[str]) -> None:
    for name in exported:
        base = name
        for suffix in ("_bucket", "_sum", "_count", "_created"):
            base = base.removesuffix(suffix)
        if any(word in base for word in ("latency", "_age", "inference")):
            assert base.endswith("_seconds"), name


def test_promql_names_skip_functions_labels_and_ranges() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, camera) (rate(a_bucket{camera=~"$camera"}[5m])))'
        " / on (camera) group_left b and deriv(sum(c)[10m:1m]) > 0"
    )
    assert promql_metric_names(expr) == {"a_bucket", "b", "c"}


def test_dashboard_is_grafana_json_with_unique_panels() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    for panel in dashboard["panels"]:
        assert panel["type"] in {"timeseries", "table", "stat"}, panel["title"]
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"]), panel["title"]
        for target in panel["targets"]:
            for variable in ("camera", "datasource"):
                if f"${variable}" in json.dumps(target):
                    assert variable in variables, panel["title"]


def test_dashboard_shows_what_the_issue_asks_for() -> None:
    titles = " | ".join(p["title"].lower() for p in json.loads(DASHBOARD.read_text())["panels"])
    for wanted in (
        "per second, per camera",
        "motion ratio",
        "inference latency",
        "access events",
        "alerts per minute, by severity",
        "lag",
        "spool",
        "acknowledge",
        "false-alarm rate per zone",
    ):
        assert wanted in titles, wanted
