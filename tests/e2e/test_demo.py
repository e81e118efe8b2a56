"""`quaywatch demo` as a newcomer runs it: the whole system, a critical alert within a minute."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.kafka import Kafka
from streams.kafka import consumer
from streams.topics import ALERTS
from tests.e2e.demo_support import RUNNING, demo_site_on_free_ports, wait_for_line

FIRST_CRITICAL_WITHIN_S = 60  # what the demo promises a newcomer


def _first_critical_alert(kafka: Kafka, timeout_s: float) -> dict | None:
    reader = consumer(kafka, None, [ALERTS], consumer_timeout_ms=1000)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            for record in reader:
                alert = json.loads(record.value)
                if alert["severity"] == "critical":
                    return alert
    finally:
        reader.close()
    return None


@pytest.mark.e2e
def test_demo_shows_a_critical_alert_with_a_real_snapshot_within_a_minute(
    tmp_path: Path, footage_path: Path, model_dynamic_onnx_path: Path
) -> None:
    demo_site = demo_site_on_free_ports(tmp_path, footage_path, model_dynamic_onnx_path)
    config, site, data_dir = demo_site.config, demo_site.site, demo_site.data_dir
    kafka = Kafka(bootstrap_servers=demo_site.bootstrap)
    began = datetime.now(UTC) - timedelta(minutes=1)
    demo = subprocess.Popen(
        [sys.executable, "-m", "quaywatch", "demo", "--config", str(config), "--memory"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "YOLO_OFFLINE": "1"},
    )
    try:
        banner = "".join(wait_for_line(demo, RUNNING, timeout_s=120))
        started = time.monotonic()
        assert f"http://127.0.0.1:{site['metrics']['console_port']}/" in banner
        assert re.search(r"login\s+operator / \S+", banner)

        alert = _first_critical_alert(kafka, timeout_s=FIRST_CRITICAL_WITHIN_S)
        assert alert is not None, f"no critical alert within {FIRST_CRITICAL_WITHIN_S} s"
        assert time.monotonic() - started <= FIRST_CRITICAL_WITHIN_S
        assert alert["zone_id"] == "quay-q3"
        assert "CSQU3054383" in alert["reason"]
        snapshot = data_dir / "snapshots" / f"{alert['snapshot_sha256']}.jpg"
        assert snapshot.read_bytes()[:2] == b"\xff\xd8"  # a JPEG the worker wrote

        # What the demo recorded is signed with the key it made, and verifies clean.
        until = datetime.now(UTC) + timedelta(minutes=1)
        verify = subprocess.run(
            [sys.executable, "-m", "quaywatch", "audit", "verify", "--config", str(config)]
            + ["--from", began.isoformat(), "--to", until.isoformat()],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert verify.returncode == 0, verify.stdout + verify.stderr
        verdict = re.search(
            r"integrity INTACT: range .+?: (\d+) records in the range .+?, (\d+) snapshots",
            verify.stdout,
        )
        assert verdict and int(verdict[1]) > 10 and int(verdict[2]) >= 1, verify.stdout
        assert "signatures checked against key" in verify.stdout, verify.stdout
    finally:
        demo.send_signal(signal.SIGINT)
        output, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0, output[-3000:]
    assert "quaywatch demo stopped" in output
    leftovers = subprocess.run(
        ["pgrep", "-af", f"quaywatch .*{config}"], capture_output=True, text=True
    )
    assert leftovers.returncode == 1, f"processes left running: {leftovers.stdout}"
