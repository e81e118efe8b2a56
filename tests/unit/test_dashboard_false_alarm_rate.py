"""The dashboard's false-alarm panel, evaluated by promtool over closes counted by two consoles:
the rate per zone and rule over all closes, summed over consoles; 0 where closes were none of
that outcome; nothing (not a division by zero) where nothing was closed in the window."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.monitoring import DASHBOARD
from tests.prometheus_support import promtool

PANEL = "False-alarm rate per zone and rule (7 d)"
# Counters as two consoles export them: each counts the closes it published, from 0.
SERIES = {
    ("c1", "false_alarm", "quay_north", "intrusion"): "0 0 1 2 2 2 2 2 2 2",
    ("c2", "confirmed_incident", "quay_north", "intrusion"): "0 0 0 0 1 1 1 1 1 1",
    ("c2", "authorised_presence", "quay_north", "intrusion"): "0 0 0 0 0 1 1 1 1 1",
    ("c1", "authorised_presence", "gate", "loitering"): "0 1 1 1 1 1 1 1 1 1",
    # Counted before, not since: no closes in the window, so no rate (the yard stays off).
    ("c2", "false_alarm", "yard", "line_crossing"): "3 3 3 3 3 3 3 3 3 3",
}


def panel_queries() -> dict[str, str]:
    [panel] = [p for p in json.loads(DASHBOARD.read_text())["panels"] if p["title"] == PANEL]
    return {target["refId"]: target["expr"] for target in panel["targets"]}


def series(console: str, outcome: str, zone: str, rule: str) -> str:
    return (
        f'quaywatch_console_closes_total{{job="quaywatch-console",instance="{console}:8480",'
        f'outcome="{outcome}",zone="{zone}",rule="{rule}"}}'
    )


def test_the_panel_gives_each_outcomes_share_of_the_closes_per_zone_and_rule(
    tmp_path: Path,
) -> None:
    queries = panel_queries()
    assert sorted(queries) == ["A", "B"]
    expected = {
        "A": [("gate", "loitering", 0.0), ("quay_north", "intrusion", 0.5)],
        "B": [("gate", "loitering", 1.0), ("quay_north", "intrusion", 0.25)],
    }
    tests = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1h",
                "input_series": [
                    {"series": series(*labels), "values": values}
                    for labels, values in SERIES.items()
                ],
                "promql_expr_test": [
                    {
                        "expr": queries[ref_id],
                        "eval_time": "9h",
                        "exp_samples": [
                            {"labels": f'{{rule="{rule}", zone="{zone}"}}', "value": value}
                            for zone, rule, value in samples
                        ],
                    }
                    for ref_id, samples in expected.items()
                ],
            }
        ],
    }
    path = tmp_path / "panel_test.yml"
    path.write_text(yaml.safe_dump(tests))

    result = promtool("test", "rules", path)

    assert result.returncode == 0, result.stdout
    assert "SUCCESS" in result.stdout
