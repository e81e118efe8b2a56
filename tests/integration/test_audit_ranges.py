"""What an auditor types: ranges in the forms people use, refused at once when wrong, and a
broker that is not there said in one line within seconds, for every command that reads Kafka."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from quaywatch.cli import main
from streams.broker.embedded import free_port
from streams.signing import KEY_ENV
from streams.topics import ALERTS
from tests.integration.audit_run import RecordedRun
from tests.integration.test_audit_commands import site_file

pytestmark = pytest.mark.integration

ANSWER_WITHIN_S = 10  # "within a few seconds": the probe waits 3 s, Python starts in ~2


def _quaywatch(
    *arguments: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "quaywatch", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def _site_without_broker(run: RecordedRun, path: Path) -> Path:
    site = yaml.safe_load(site_file(run, path).read_text())
    site["kafka"]["bootstrap_servers"] = [f"127.0.0.1:{free_port()}"]  # nobody listens there
    path.write_text(yaml.safe_dump(site))
    return path


@pytest.mark.parametrize("action", ["verify", "report", "replay", "export"])
def test_no_broker_is_one_line_within_seconds_naming_where_and_how_to_start_one(
    recorded: RecordedRun, tmp_path: Path, action: str
) -> None:
    config = _site_without_broker(recorded, tmp_path / "site.yaml")
    servers = yaml.safe_load(config.read_text())["kafka"]["bootstrap_servers"][0]
    extra = {"report": ["--out", str(tmp_path / "r")], "export": ["--out", str(tmp_path / "b")]}
    began = time.monotonic()
    result = _quaywatch(
        "audit", action, "--config", str(config), "--from", "-1h", "--to", "now",
        *extra.get(action, []), env={KEY_ENV: str(recorded.key_path)},
    )  # fmt: skip
    took = time.monotonic() - began

    assert result.returncode == 1, result.stdout + result.stderr
    assert took < ANSWER_WITHIN_S, took
    assert result.stderr.strip() == (
        f"quaywatch audit: no Kafka broker answered at {servers} within 3 s "
        f"(KafkaTimeoutError); start one with `quaywatch broker --config {config}` (the "
        "embedded broker, durable under the site's data_dir), or add --embedded-broker to "
        "read what `make demo` recorded"
    )
    assert "Traceback" not in result.stdout + result.stderr


def test_terminal_ingest_without_a_broker_is_one_line_too(tmp_path: Path) -> None:
    from tests.fixtures.resources import DEMO_SITE

    site = yaml.safe_load(DEMO_SITE.read_text())
    site["kafka"]["bootstrap_servers"] = [f"127.0.0.1:{free_port()}"]
    site["data_dir"] = str(DEMO_SITE.parent / site["data_dir"])
    site["cameras"][0]["source"] = str(DEMO_SITE.parent / site["cameras"][0]["source"])
    for trusted in site["signing"]["keys"]:
        trusted["public_key"] = str(DEMO_SITE.parent / trusted["public_key"])
    config = tmp_path / "site.yaml"
    config.write_text(yaml.safe_dump(site))
    began = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "quaywatch", "terminal", "ingest", "--config", str(config)]
        + ["--format", "dcsa", str(DEMO_SITE.parent / "demo-terminal.jsonl")],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "QUAYWATCH_SIGNING_KEY_TERMINAL": str(
                Path(site["signing"]["keys"][1]["public_key"]).with_suffix(".pem")
            ),
        },
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert time.monotonic() - began < ANSWER_WITHIN_S
    assert result.stderr.startswith("quaywatch terminal: no Kafka broker answered at 127.0.0.1:")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize(
    ("start", "end", "refusal"),
    [
        ("now", "-1h", "the range ends before it starts: "),
        ("today", "yesterday", "the range ends before it starts: "),
        ("2026-12-02 10:00", "2026-12-02 09:00", "2026-12-02 09:00:00 +01:00 is before "),
        ("since monday", "now", "'since monday' is not a time; use one of: 2026-12-01"),
    ],
)
def test_a_bad_range_is_refused_before_any_broker_is_asked(
    recorded: RecordedRun, tmp_path: Path, start: str, end: str, refusal: str
) -> None:
    # No broker listens there: a range checked after connecting would be answered with that.
    config = _site_without_broker(recorded, tmp_path / "site.yaml")
    result = _quaywatch("audit", "verify", "--config", str(config), "--from", start, "--to", end)

    assert result.returncode == 2
    assert result.stderr.startswith("quaywatch audit: --from/--to: ")
    assert refusal in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_relative_and_day_ranges_find_what_was_just_recorded(
    recorded: RecordedRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = site_file(recorded, tmp_path / "site.yaml")
    counts = set()
    for start, end in (("-1h", "now"), ("yesterday", "today"), ("-2d", "now")):
        assert main(["audit", "verify", "--config", str(config), "--from", start, "--to", end]) == 0
        out = capsys.readouterr().out
        assert out.startswith("integrity INTACT"), out
        counts.add(int(re.search(r"(\d+) records", out)[1]))
    # Each form holds the whole night just recorded: the same records, and all of them.
    assert len(counts) == 1 and counts.pop() >= len(recorded.log.in_range(ALERTS, recorded.window))


def test_a_correlator_without_a_broker_says_so_in_one_line_within_seconds(
    recorded: RecordedRun, tmp_path: Path
) -> None:
    config = _site_without_broker(recorded, tmp_path / "site.yaml")
    began = time.monotonic()
    result = _quaywatch(
        "correlate", "--config", str(config), "--metrics-port", "0",
        env={"QUAYWATCH_SIGNING_KEY_CORRELATOR": str(recorded.key_path)},
    )  # fmt: skip

    assert result.returncode == 1, result.stdout + result.stderr
    assert time.monotonic() - began < ANSWER_WITHIN_S
    assert result.stderr.startswith("quaywatch correlate: no Kafka broker answered at 127.0.0.1:")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_embedded_broker_without_a_recorded_log_says_where_it_looked(
    recorded: RecordedRun, tmp_path: Path
) -> None:
    config = _site_without_broker(recorded, tmp_path / "site.yaml")
    site = yaml.safe_load(config.read_text())
    site["data_dir"] = str(tmp_path / "never-ran")
    config.write_text(yaml.safe_dump(site))
    result = _quaywatch(
        "audit", "verify", "--config", str(config), "--from", "-1h", "--to", "now",
        "--embedded-broker",
    )  # fmt: skip

    assert result.returncode == 2
    assert result.stderr == (
        f"quaywatch audit: --embedded-broker: no recorded log in {tmp_path / 'never-ran'}"
        f"/broker (data_dir of {config}); `make demo` records there\n"
    )
