"""Every quaywatch process serves /metrics and /healthz, and together they export every metric
the alert rules and the Grafana dashboard use.

The processes run for real (`python -m quaywatch ...`) against the embedded broker: the
worker on the recorded vtest.avi footage with the real model, for a short stretch.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from config.loading import load_site
from tests.fixtures.broker import fresh_topics
from tests.integration.quaywatch_processes import (
    Process,
    get,
    health,
    start,
    start_services,
    wait_for,
    write_site,
)
from tests.monitoring import PROMETHEUS_OWN, exported_names, used_metric_names

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

SCRAPER = ("scraper", "scrape-password-1")


@pytest.fixture(scope="module")
def running(
    tmp_path_factory: pytest.TempPathFactory,
    broker: object,
    footage_path: Path,
    model_onnx_path: Path,
) -> Iterator[dict[str, Process]]:

    directory = tmp_path_factory.mktemp("health")
    kafka = fresh_topics(broker.bootstrap)  # type: ignore[attr-defined]
    site_path = write_site(directory, kafka, footage_path, model_onnx_path)
    site = load_site(site_path)
    config = ["--config", str(site_path)]
    users = start(
        "users",
        ["users", "add", SCRAPER[0], "--role", "engineer", "--password-stdin", *config],
        0,
        directory,
        stdin=SCRAPER[1] + "\n",
    )
    assert users.popen.wait(60) == 0, users.output()
    processes = {
        "worker": start(
            "worker", ["worker", *config, "--duration", "120"], site.metrics.worker_port, directory
        ),
        **start_services(site_path, directory),
    }
    try:
        for process in processes.values():
            wait_for(
                f"{process.name} /healthz", lambda p=process: health(p) is not None, 120, process
            )
        yield processes
    finally:
        for process in processes.values():
            process.stop()


def scrape(process: Process) -> str:
    auth = SCRAPER if process.name == "console" else None
    status, body = get(f"{process.url}/metrics", auth=auth)
    assert status == 200, f"{process.name}: {status} {body[:200]}"
    return body


def test_every_process_is_healthy_while_the_broker_runs(running: dict[str, Process]) -> None:
    for process in running.values():
        assert health(process) == (200, {"status": "ok"}), process.name


def test_the_worker_reports_frames_of_the_real_footage(running: dict[str, Process]) -> None:
    worker = running["worker"]
    wait_for(
        "analysed frames",
        lambda: 'quaywatch_worker_frames_processed_total{camera="cam-1"}' in scrape(worker),
        180,
        worker,
    )
    metrics = scrape(worker)
    assert 'quaywatch_worker_inference_seconds_count{camera="cam-1"}' in metrics
    assert 'quaywatch_worker_camera_status{camera="cam-1",status="online"} 1.0' in metrics


def test_every_metric_in_the_rules_and_dashboard_is_exported(
    running: dict[str, Process],
) -> None:
    exported: set[str] = set()
    for process in running.values():
        exported |= exported_names(scrape(process))
    unknown = {
        name: sorted(where)
        for name, where in used_metric_names().items()
        if name not in exported | PROMETHEUS_OWN
    }
    assert not unknown, f"used by rules or dashboard, exported by no process: {unknown}"


def test_console_metrics_need_a_scraper_login(running: dict[str, Process]) -> None:
    status, _ = get(f"{running['console'].url}/metrics")
    assert status == 401
