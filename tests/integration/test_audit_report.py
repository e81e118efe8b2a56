"""The report of a recorded night: what its range holds, times in the site's zone, and a
range with no records never shown as intact."""

from __future__ import annotations

import csv
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from config.clock import site_time, zone_of
from quaywatch.cli import main
from streams.audit.records import TimeRange
from streams.audit.report import write_report
from streams.audit.verify import verify
from streams.correlator.engine import alert_id_for
from streams.signing import KeyRing
from streams.topics import ACCESS, ALERTS
from tests.integration.audit_run import INCIDENTS, RecordedRun
from tests.integration.test_audit_commands import site_file

pytestmark = pytest.mark.integration

AMSTERDAM = zone_of("Europe/Amsterdam")  # the story site's zone


def _report(run: RecordedRun, window: TimeRange, out: Path) -> str:
    verdict = verify(run.log, window, run.snapshot_dir, KeyRing.from_config(run.site.signing))
    return write_report(run.site, run.log, window, verdict, run.snapshot_dir, out).read_text()


def test_the_report_counts_the_range_and_shows_every_time_in_site_time(
    recorded: RecordedRun, tmp_path: Path
) -> None:
    html = _report(recorded, recorded.window, tmp_path)

    assert recorded.site.site.timezone == "Europe/Amsterdam"
    referred = {
        message.snapshot_sha256
        for topic in (ACCESS, ALERTS)
        for _, message in recorded.log.messages(topic)
        if message.snapshot_sha256
    }
    assert len(referred) == len(INCIDENTS)
    summary = json.loads((tmp_path / "report.json").read_text())
    assert summary["records"] == recorded.log.size
    assert summary["snapshots_referred_to"] == sorted(referred)
    assert (
        f"The range holds {recorded.log.size} records, {len(INCIDENTS)} snapshots referred to."
        in html
    )
    assert re.search(r'<div class="verdict intact" id="verdict" data-state="intact">', html)
    assert (
        f"Records from {site_time(recorded.window.start, AMSTERDAM)} to\n"
        f"{site_time(recorded.window.end, AMSTERDAM)}; all times in Europe/Amsterdam" in html
    )

    alerts = {alert.alert_id: alert for _, alert in recorded.log.messages(ALERTS)}
    rows = list(csv.DictReader((tmp_path / "alerts.csv").open()))
    for row in rows:
        seen = alerts[row["alert_id"]].event_time
        assert row["seen_at"] == site_time(seen, AMSTERDAM)
        assert row["seen_at"].endswith(" +01:00")  # a March night in 2024
        assert f"<td>{row['seen_at']}</td>" in html
    escalated = next(r for r in rows if r["alert_id"] == alert_id_for("selected"))
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d olga \(operator\) on r1: escalated: "
        "guards sent",
        escalated["handled_by"],
    )
    acknowledged = next(r for r in rows if r["alert_id"] == alert_id_for("late"))
    assert acknowledged["handled_by"].endswith(
        " olga (operator) on r2: acknowledged: seen on camera"
    )
    # Neither was closed nor assigned: the columns say so rather than guess.
    assert {(r["outcome"], r["assignee"]) for r in rows} == {("", "")}
    # No UTC "Z" times and no ISO 'T' times for people to convert (the verdict is verify's).
    outside_verdict = re.sub(r'<div class="verdict.*?</div>', "", html, flags=re.S)
    assert not re.search(r"\d\d:\d\d:\d\dZ|\d{4}-\d\d-\d\dT\d\d:", outside_verdict)


def test_a_range_with_no_records_is_said_to_be_empty_never_intact(
    recorded: RecordedRun, tmp_path: Path
) -> None:
    before = recorded.window.start - timedelta(days=30)
    empty = TimeRange(before, before + timedelta(hours=1))
    html = _report(recorded, empty, tmp_path)

    summary = json.loads((tmp_path / "report.json").read_text())
    assert (summary["records"], summary["snapshots_referred_to"]) == (0, [])
    assert summary["integrity"]["intact"] is False
    assert '<div class="verdict empty" id="verdict" data-state="empty">' in html
    assert "verdict intact" not in html
    assert (
        f"No records between {site_time(empty.start, AMSTERDAM)} and "
        f"{site_time(empty.end, AMSTERDAM)}: nothing was checked, so nothing is shown as intact."
    ) in html
    assert "The range holds 0 records, 0 snapshots referred to." in html
    assert list(csv.DictReader((tmp_path / "alerts.csv").open())) == []


def test_the_report_command_says_what_its_range_holds(
    recorded: RecordedRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = site_file(recorded, tmp_path / "site.yaml")
    # The integrity word: the page's (intact, nothing to verify) or verify's (INTACT, EMPTY).
    for start, end, said in (
        ("-1h", "now", f"{recorded.log.size} records, {len(INCIDENTS)} snapshots referred to; "
         "integrity (intact|INTACT)"),
        ("2020-01-01", "2020-01-02", "0 records, 0 snapshots referred to; integrity (nothing "
         "to verify|EMPTY)"),
    ):  # fmt: skip
        out = tmp_path / start
        command = ["audit", "report", "--config", str(config), "--from", start, "--to", end]
        assert main([*command, "--out", str(out)]) == 0
        printed = capsys.readouterr().out
        assert re.fullmatch(
            f"report written to {re.escape(str(out))}/report.html: {said}\n", printed
        )
