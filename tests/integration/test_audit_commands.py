"""The `quaywatch audit` commands on a recorded night: exit codes, report files, signed bundles."""

from __future__ import annotations

import csv
import json
import re
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from config.clock import site_time, zone_of
from quaywatch.cli import main
from streams.audit.bundle import verify_bundle
from streams.correlator.engine import alert_id_for
from streams.signing import KEY_ENV
from streams.topics import ALERTS
from tests.integration.audit_run import (
    FRESH_INCIDENTS,
    INCIDENTS,
    LONGER_WINDOW,
    NIGHT,
    RECORDED_WINDOW,
    RecordedRun,
)

pytestmark = pytest.mark.integration


def site_file(run: RecordedRun, path: Path, longer: bool = False) -> Path:
    correlation = LONGER_WINDOW if longer else RECORDED_WINDOW
    site = run.site.model_copy(update={"correlation": correlation})
    path.write_text(yaml.safe_dump(site.model_dump(mode="json")))
    return path


def range_args(run: RecordedRun) -> list[str]:
    return ["--from", run.window.start.isoformat(), "--to", run.window.end.isoformat()]


def test_replay_exit_code_says_whether_the_alerts_match(
    recorded: RecordedRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = site_file(recorded, tmp_path / "site.yaml")
    other = site_file(recorded, tmp_path / "longer.yaml", longer=True)

    assert main(["audit", "replay", "--config", str(config), *range_args(recorded)]) == 0
    assert "identical" in capsys.readouterr().out
    code = main(
        ["audit", "replay", "--config", str(config), "--with", str(other), *range_args(recorded)]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert out.count("severity changed") == 2
    assert alert_id_for("fresh-1") in out and alert_id_for("selected") not in out


def test_replay_labels_footage_time_where_the_alerts_camera_replays_footage(
    recorded: RecordedRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The same night, its camera now said to replay footage that starts at the night.
    footage = [camera.model_copy(update={"start_time": NIGHT}) for camera in recorded.site.cameras]
    on_footage = replace(recorded, site=recorded.site.model_copy(update={"cameras": footage}))
    config = site_file(on_footage, tmp_path / "site.yaml")
    other = site_file(on_footage, tmp_path / "longer.yaml", longer=True)

    command = ["audit", "replay", "--config", str(config), "--with", str(other)]
    assert main([*command, *range_args(recorded)]) == 1
    zone = zone_of(recorded.site.site.timezone)
    alerts = {alert.alert_id: alert for _, alert in recorded.log.messages(ALERTS)}
    changed = sorted(alert_id_for(incident) for incident in FRESH_INCIDENTS)
    expected = [
        f"replay differs from the recorded alerts ({len(INCIDENTS)} compared): 0 added, "
        "0 dropped, 2 changed",
    ]
    for alert_id in changed:
        seen = site_time(alerts[alert_id].event_time, zone)
        expected += [
            f"  severity changed: {alert_id} zone zone-B3 seen {seen} (footage time)",
            "      recorded: medium (r1)",
            "      replayed: high (r1)",
        ]
    assert capsys.readouterr().out == "\n".join(expected) + "\n"


def test_verify_command_is_clean_on_the_recorded_night(
    recorded: RecordedRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = site_file(recorded, tmp_path / "site.yaml")

    assert main(["audit", "verify", "--config", str(config), *range_args(recorded)]) == 0
    assert "integrity INTACT" in capsys.readouterr().out


def test_report_writes_html_csv_and_json_with_every_alert(
    recorded: RecordedRun, tmp_path: Path
) -> None:
    config = site_file(recorded, tmp_path / "site.yaml")
    out = tmp_path / "report"

    assert (
        main(["audit", "report", "--config", str(config), *range_args(recorded), "--out", str(out)])
        == 0
    )

    rows = list(csv.DictReader((out / "alerts.csv").open()))
    assert {row["alert_id"] for row in rows} == {alert_id_for(i) for i in INCIDENTS}
    handled = {row["alert_id"]: row["handled_by"] for row in rows}
    assert handled[alert_id_for("selected")].endswith(
        "olga (operator) on r1: escalated: guards sent"
    )
    summary = json.loads((out / "report.json").read_text())
    assert summary["integrity"]["intact"] is True
    html = (out / "report.html").read_text()
    # The whole range, then each alert over its own episode.
    assert html.count('<svg class="timeline overview"') == 1
    assert html.count('<svg class="timeline episode"') == len(INCIDENTS)
    assert "data:image/jpeg;base64," in html
    # Nothing fetched, it opens from disk: the only links lead to the alerts' own timelines.
    assert 'src="http' not in html
    assert set(re.findall(r'href="([^"]*)"', html)) == {
        f"#episode-{alert_id_for(i)}" for i in INCIDENTS
    }


def test_export_bundle_verifies_elsewhere_and_detects_changes(
    recorded: RecordedRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = site_file(recorded, tmp_path / "site.yaml")
    bundle = tmp_path / "night.zip"
    monkeypatch.setenv(KEY_ENV, str(recorded.key_path))
    assert (
        main(
            [
                "audit",
                "export",
                "--config",
                str(config),
                *range_args(recorded),
                "--out",
                str(bundle),
            ]
        )
        == 0
    )
    monkeypatch.delenv(KEY_ENV)
    trusted = ["--public-key", str(recorded.key_path.with_suffix(".pub"))]

    assert main(["audit", "verify-bundle", str(bundle), *trusted]) == 0
    with zipfile.ZipFile(bundle) as original:
        names = original.namelist()
        assert sum(n.startswith("snapshots/") for n in names) == len(INCIDENTS)
        contents = {name: original.read(name) for name in names}
    changed = tmp_path / "changed.zip"
    with zipfile.ZipFile(changed, "w") as copy:
        for name, data in contents.items():
            if name == "records.jsonl":
                data = data.replace(b'"partition": 0', b'"partition": 0 ', 1)
                lines = data.splitlines(keepends=True)
                data = b"".join(lines[:3] + lines[4:])  # one record dropped
            copy.writestr(name, data)

    check = verify_bundle(changed)
    assert not check.verdict.clean
    assert check.verdict.broken[0].kind == "file modified"
    assert main(["audit", "verify-bundle", str(changed), *trusted]) == 1
