"""The alert rules checked and unit-tested by Prometheus's own promtool: the rule file is valid
PromQL, every alert fires when it should and stays quiet when it should not, and a rule file
without an alert, or without its `for`, fails those tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.monitoring import RULES, rule_expressions
from tests.prometheus_support import RULE_TESTS, promtool


def rule_file() -> dict:
    return yaml.safe_load(RULES.read_text())


def test_promtool_checks_the_rule_file() -> None:
    result = promtool("check", "rules", RULES)
    assert result.returncode == 0, result.stdout
    assert f"SUCCESS: {len(rule_expressions())} rules found" in result.stdout


def test_promtool_unit_tests_of_the_rules_pass() -> None:
    result = promtool("test", "rules", RULE_TESTS)
    assert result.returncode == 0, result.stdout
    assert "SUCCESS" in result.stdout


def test_every_alert_has_a_case_where_it_fires_and_one_where_it_does_not() -> None:
    cases: dict[str, set[bool]] = {}
    for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]:
        for case in test["alert_rule_test"]:
            cases.setdefault(case["alertname"], set()).add(bool(case["exp_alerts"]))
    untested = {alert: cases.get(alert, set()) for alert in rule_expressions()}
    assert {alert: seen for alert, seen in untested.items() if seen != {True, False}} == {}


def _without(alert: str, field: str | None = None) -> dict:
    """The rule file with `alert` left out, or with only its `field` left out."""
    rules = rule_file()
    for group in rules["groups"]:
        for rule in list(group["rules"]):
            if rule["alert"] == alert:
                if field is None:
                    group["rules"].remove(rule)
                else:
                    del rule[field]
    return rules


def _cases_of(alert: str) -> dict:
    """The unit tests with only the cases of `alert`: the others do not need to run again."""
    tests = yaml.safe_load(RULE_TESTS.read_text())
    for test in tests["tests"]:
        test["alert_rule_test"] = [c for c in test["alert_rule_test"] if c["alertname"] == alert]
    tests["tests"] = [test for test in tests["tests"] if test["alert_rule_test"]]
    return tests


WAITING = sorted(
    rule["alert"] for group in rule_file()["groups"] for rule in group["rules"] if "for" in rule
)
BROKEN = [(alert, None) for alert in sorted(rule_expressions())] + [
    (alert, "for") for alert in WAITING
]


@pytest.fixture(scope="module")
def unit_tests_against_broken_rules(tmp_path_factory) -> dict[tuple[str, str | None], str]:
    """promtool's report of the unit tests run against each broken rule file, all in one run
    (one promtool start instead of one per file)."""
    files = {}
    for alert, field in BROKEN:
        folder = tmp_path_factory.mktemp(f"{alert}-without-{field or 'rule'}")
        (folder / RULES.name).write_text(yaml.safe_dump(_without(alert, field)))
        files[alert, field] = folder / RULE_TESTS.name
        files[alert, field].write_text(yaml.safe_dump(_cases_of(alert)))
    result = promtool("test", "rules", *files.values())
    assert result.returncode != 0, result.stdout
    report = result.stdout
    sections = {}
    for key, path in files.items():
        start = report.index(f"Unit Testing:  {path}")
        end = report.find("Unit Testing:", start + 1)
        sections[key] = report[start : end if end >= 0 else None]
    return sections


@pytest.mark.parametrize(("alert", "field"), BROKEN, ids=[f"{a}-{f or 'rule'}" for a, f in BROKEN])
def test_unit_tests_fail_against_a_rule_file_without_the_alert_or_its_for(
    alert: str, field: str | None, unit_tests_against_broken_rules
) -> None:
    section = unit_tests_against_broken_rules[alert, field]
    assert "FAILED" in section and alert in section, section


def test_promtool_checks_the_compose_stacks_prometheus_config_with_its_mounts(tmp_path) -> None:
    """deploy/compose/prometheus.yml as the compose stack's Prometheus sees it: its files are
    where the stack mounts them (a secret the stack makes at start-up stands in empty)."""
    compose = RULES.parents[1] / "compose"
    service = yaml.safe_load((compose / "docker-compose.yml").read_text())["services"]["prometheus"]
    mounted = {}
    for volume in service["volumes"]:
        source, target, *_mode = volume.split(":")
        if source.startswith("."):
            mounted[target] = (compose / source).resolve()
    config = yaml.safe_load(mounted["/etc/prometheus/prometheus.yml"].read_text())
    config["rule_files"] = [str(mounted[path]) for path in config["rule_files"]]
    for job in config["scrape_configs"]:
        password_file = job.get("basic_auth", {}).get("password_file")
        if password_file is not None:
            assert password_file in mounted, f"{job['job_name']}: {password_file} not mounted"
            stand_in = tmp_path / Path(password_file).name
            stand_in.write_text("scrape-password\n")
            job["basic_auth"]["password_file"] = str(stand_in)
    checked = tmp_path / "prometheus.yml"
    checked.write_text(yaml.safe_dump(config))
    result = promtool("check", "config", checked)
    assert result.returncode == 0, result.stdout
    assert f"SUCCESS: {len(rule_expressions())} rules found" in result.stdout
