"""`make demo`, Ctrl-C, then the README's audit commands, word for word: the durable demo log
verifies INTACT, the report lists the run's alerts in the site's time, the replay matches."""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config.clock import site_time
from config.kafka import Kafka
from streams.kafka import consumer
from streams.topics import ALERTS
from tests.e2e.demo_support import (
    RUNNING,
    DemoSite,
    demo_site_on_free_ports,
    readme_audit_commands,
    wait_for_line,
)

# The critical and the high alert the README promises; the demo runs until both are raised
# (the suppressed one in reefer-row follows when someone has stood there long enough).
PROMISED_ZONES = {"quay-q3", "gate-lane"}
ALERTS_WITHIN_S = 180
DEMO_ZONE = ZoneInfo("Europe/Amsterdam")  # config/sites/demo.yaml site.timezone


def _alerts_of_the_run(kafka: Kafka, timeout_s: float) -> dict[str, dict]:
    """The latest revision of every alert, read while the demo runs, until every promised zone
    has one (and the rest of what is there by then)."""
    reader = consumer(kafka, None, [ALERTS], consumer_timeout_ms=1000)
    latest: dict[str, dict] = {}
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            for record in reader:
                alert = json.loads(record.value)
                if alert["revision"] >= latest.get(alert["alert_id"], {}).get("revision", -1):
                    latest[alert["alert_id"]] = alert
            if {alert["zone_id"] for alert in latest.values()} >= PROMISED_ZONES:
                return latest
    finally:
        reader.close()
    zones = sorted({alert["zone_id"] for alert in latest.values()})
    raise AssertionError(f"alerts only in {zones} after {timeout_s} s")


def _as_test_runs(command: str, demo: DemoSite, out: Path) -> list[str]:
    """A README command with the test's own site in place of the shipped one."""
    words = shlex.split(command)
    assert words[0] == ".venv/bin/quaywatch", command
    swapped = {"config/sites/demo.yaml": str(demo.config), "audit-report": str(out)}
    return [sys.executable, "-m", "quaywatch", *[swapped.get(word, word) for word in words[1:]]]


@pytest.mark.e2e
def test_the_readme_audits_what_the_demo_recorded_after_ctrl_c(
    tmp_path: Path, footage_path: Path, model_dynamic_onnx_path: Path
) -> None:
    demo_site = demo_site_on_free_ports(tmp_path, footage_path, model_dynamic_onnx_path)
    demo = subprocess.Popen(
        [sys.executable, "-m", "quaywatch", "demo", "--config", str(demo_site.config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "YOLO_OFFLINE": "1"},
    )
    try:
        banner = "".join(wait_for_line(demo, RUNNING, timeout_s=120))
        assert f"durable in {demo_site.data_dir / 'broker'}" in banner
        alerts = _alerts_of_the_run(Kafka(bootstrap_servers=demo_site.bootstrap), ALERTS_WITHIN_S)
    finally:
        demo.send_signal(signal.SIGINT)
        output, _ = demo.communicate(timeout=90)
    assert demo.returncode == 0, output[-3000:]

    out = tmp_path / "audit-report"
    verify, report, replay = (
        subprocess.run(
            _as_test_runs(command, demo_site, out), capture_output=True, text=True, timeout=300
        )
        for command in readme_audit_commands()
    )

    assert verify.returncode == 0, verify.stdout + verify.stderr
    # "integrity INTACT: N records, ..." (or, with the range first, "...: N records in the range")
    verdict = re.search(r"^integrity INTACT\b.*?(\d+) records", verify.stdout)
    assert verdict and int(verdict[1]) > 0, verify.stdout

    assert report.returncode == 0, report.stdout + report.stderr
    said = re.search(
        r": (\d+) records, (\d+) snapshots referred to; integrity (?:intact|INTACT)$",
        report.stdout.strip(),
    )
    assert said and int(said[1]) > 0 and int(said[2]) >= 1, report.stdout
    rows = {row["alert_id"]: row for row in csv.DictReader((out / "alerts.csv").open())}
    # Every alert the demo raised is in the report, as its latest revision said it, with the
    # time it was seen in the site's zone (footage time, the camera's clock).
    assert set(alerts) <= set(rows), sorted(set(alerts) - set(rows))
    for alert_id, alert in alerts.items():
        row = rows[alert_id]
        seen = datetime.fromisoformat(alert["event_time"])
        assert (row["zone_id"], row["seen_at"]) == (alert["zone_id"], site_time(seen, DEMO_ZONE))
        assert row["seen_at"].endswith("+01:00")  # a March night in Rotterdam
        if int(row["last_revision"]) == alert["revision"]:
            assert row["severity"] == alert["severity"]
    html = (out / "report.html").read_text()
    assert "Europe/Amsterdam" in html
    for alert_id in alerts:
        assert alert_id in html

    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "identical" in replay.stdout, replay.stdout
