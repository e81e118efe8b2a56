"""A real Prometheus (Debian package, on loopback) scraping the running worker, correlator,
terminal feed endpoint and console, with the project's alert rules: every process is a target
that answers, every rule evaluates without error, every query of the Grafana dashboard runs,
and the camera-offline alert fires once the worker's RTSP camera goes away.

The processes run for real (`python -m quaywatch ...`) against the embedded broker; the worker
reads an RTSP camera (GStreamer's RTSP server streaming vtest.avi) with the real model.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from config.loading import load_site
from tests.fixtures.broker import fresh_topics
from tests.fixtures.rtsp import RtspCamera
from tests.integration.quaywatch_processes import (
    LOOPBACK,
    Process,
    health,
    start,
    start_services,
    wait_for,
    write_site,
)
from tests.monitoring import DASHBOARD, RULES, dashboard_expressions, rule_expressions
from tests.prometheus_support import PrometheusServer

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

SCRAPER = ("scraper", "scrape-password-1")
JOBS = ("worker", "correlator", "terminal", "console")
# The rules as the project ships them, with every `for` cut to seconds so that an alert the
# test causes fires while it waits; expressions, labels and annotations are the file's own
# (promtool's unit tests hold the real `for`s: tests/unit/test_prometheus_rules.py).
TEST_FOR = "2s"
# Grafana puts the camera variable's "All" value (its allValue) where the panels say $camera.
ALL_CAMERAS = json.loads(DASHBOARD.read_text())["templating"]["list"][1]["allValue"]
# Panels that must show data while one camera is watched and nothing has alerted yet (no
# access event, alert, close or container event has happened, so those panels stay empty).
PANELS_WITH_DATA = (
    "Frames analysed per second, per camera [A]",
    "Motion ratio, per camera [A]",
    "Inference latency (p50, p95) [A]",
    "Inference latency (p50, p95) [B]",
    "Frames dropped per second, per camera [A]",
    "Camera state [A]",
    "Correlator consumer lag (access events) [A]",
    "Worker spool depth [A]",
    "Publish errors per minute [A]",
    "Unacknowledged alerts, by severity [A]",
    "Oldest unacknowledged alert, by severity [A]",
    "Terminal: container events per minute, minutes since the last [B]",
)


@dataclass
class Monitored:
    prometheus: PrometheusServer
    camera: RtspCamera
    processes: dict[str, Process]


def rules_for_the_test(directory: Path) -> Path:
    rules = yaml.safe_load(RULES.read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = TEST_FOR
    path = directory / RULES.name
    path.write_text(yaml.safe_dump(rules))
    return path


def prometheus_config(site_path: Path, rules: Path) -> dict:
    ports = load_site(site_path).metrics
    port_of = {
        "worker": ports.worker_port,
        "correlator": ports.correlator_port,
        "terminal": ports.terminal_port,
        "console": ports.console_port,
    }

    def job(name: str) -> dict:
        scrape = {
            "job_name": f"quaywatch-{name}",
            "static_configs": [{"targets": [f"{LOOPBACK}:{port_of[name]}"]}],
        }
        if name == "console":  # the console's metrics are for logged-in engineers only
            scrape["basic_auth"] = {"username": SCRAPER[0], "password": SCRAPER[1]}
        return scrape

    return {
        "global": {"scrape_interval": "2s", "scrape_timeout": "2s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [job(name) for name in JOBS],
    }


@pytest.fixture(scope="module")
def monitored(
    tmp_path_factory: pytest.TempPathFactory,
    broker: object,
    footage_path: Path,
    model_onnx_path: Path,
) -> Iterator[Monitored]:
    directory = tmp_path_factory.mktemp("prometheus")
    kafka = fresh_topics(broker.bootstrap)  # type: ignore[attr-defined]
    camera = RtspCamera(footage_path).start()
    site_path = write_site(directory, kafka, footage_path, model_onnx_path)
    site = yaml.safe_load(site_path.read_text())
    site["cameras"][0]["source"] = camera.url
    site_path.write_text(yaml.safe_dump(site))
    config = ["--config", str(site_path)]
    users = start(
        "users",
        ["users", "add", SCRAPER[0], "--role", "engineer", "--password-stdin", *config],
        0,
        directory,
        stdin=SCRAPER[1] + "\n",
    )
    assert users.popen.wait(60) == 0, users.output()
    ports = load_site(site_path).metrics
    processes = {
        "worker": start("worker", ["worker", *config], ports.worker_port, directory),
        **start_services(site_path, directory),
    }
    prometheus = PrometheusServer(
        prometheus_config(site_path, rules_for_the_test(directory)), directory
    )
    try:
        for process in processes.values():
            wait_for(
                f"{process.name} /healthz", lambda p=process: health(p) is not None, 120, process
            )
        prometheus.start()
        yield Monitored(prometheus, camera, processes)
    finally:
        prometheus.stop()
        for process in processes.values():
            process.stop()
        camera.stop()


def until(monitored: Monitored, what: str, check, timeout_s: float = 90) -> None:
    """Poll until check() holds, failing with the processes' and Prometheus's last words."""

    def checked() -> bool:
        if not monitored.prometheus.running:
            raise AssertionError(f"prometheus exited:\n{monitored.prometheus.output()}")
        return bool(check())

    try:
        wait_for(what, checked, timeout_s, *monitored.processes.values())
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- prometheus:\n{monitored.prometheus.output()}") from None


def test_prometheus_scrapes_every_process_and_evaluates_every_rule(monitored: Monitored) -> None:
    prometheus = monitored.prometheus

    def targets_up() -> bool:
        up = prometheus.query('up{job=~"quaywatch-.*"}')
        return sorted((s["metric"]["job"], s["value"][1]) for s in up) == sorted(
            (f"quaywatch-{name}", "1") for name in JOBS
        )

    until(monitored, "every quaywatch process scraped", targets_up)

    def rules_evaluated() -> list[dict]:
        groups = prometheus.api("rules")["groups"]
        return [rule for group in groups for rule in group["rules"]]

    until(
        monitored,
        "every rule evaluated",
        lambda: all(r.get("lastEvaluation", "0001").startswith("20") for r in rules_evaluated()),
    )
    rules = rules_evaluated()
    assert sorted(rule["name"] for rule in rules) == sorted(rule_expressions())
    assert [(r["name"], r["health"], r["lastError"]) for r in rules if r["health"] != "ok"] == []


def test_every_dashboard_query_runs_against_prometheus(monitored: Monitored) -> None:
    prometheus = monitored.prometheus
    queries = {
        where: expr.replace("$camera", ALL_CAMERAS)
        for where, expr in dashboard_expressions().items()
    }
    until(
        monitored,
        "data in the panels of a watched camera",
        lambda: all(prometheus.query(queries[where]) for where in PANELS_WITH_DATA),
        180,
    )
    # Every query runs (an error answer fails in PrometheusServer.api).
    results = {where: prometheus.query(expr) for where, expr in queries.items()}
    assert [where for where in PANELS_WITH_DATA if not results[where]] == []
    [p95] = results["Inference latency (p50, p95) [B]"]
    assert p95["metric"] == {"camera": "cam-1"}
    assert 0 < float(p95["value"][1]) <= 5.0  # within the histogram's buckets
    state = {(s["metric"]["camera"], s["metric"]["status"]) for s in results["Camera state [A]"]}
    assert state == {("cam-1", "online")}
    # The camera variable's query, as Grafana asks it.
    variable = json.loads(DASHBOARD.read_text())["templating"]["list"][1]["definition"]
    metric = variable.removeprefix("label_values(").split(",")[0]
    assert prometheus.api("label/camera/values", **{"match[]": metric}) == ["cam-1"]


def test_camera_offline_alert_fires_after_the_camera_goes_away(monitored: Monitored) -> None:
    prometheus = monitored.prometheus

    def offline_alerts() -> list[dict]:
        return [
            a for a in prometheus.alerts() if a["labels"]["alertname"] == "QuaywatchCameraOffline"
        ]

    until(
        monitored,
        "the camera online in Prometheus",
        lambda: prometheus.query('quaywatch_worker_camera_status{status="online"} == 1'),
        180,
    )
    assert offline_alerts() == []
    monitored.camera.stop()
    until(
        monitored,
        "the camera-offline alert firing",
        lambda: [a for a in offline_alerts() if a["state"] == "firing"],
    )
    [alert] = offline_alerts()
    assert alert["labels"] == {
        "alertname": "QuaywatchCameraOffline",
        "camera": "cam-1",
        "severity": "page",
    }
    assert alert["annotations"] == {
        "summary": "Camera cam-1 is offline",
        "description": "The worker cannot read camera cam-1: its zones are not watched.",
    }
    firing = prometheus.query('ALERTS{alertname="QuaywatchCameraOffline",alertstate="firing"}')
    assert [s["metric"]["camera"] for s in firing] == ["cam-1"]
