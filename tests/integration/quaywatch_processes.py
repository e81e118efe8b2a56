"""Real `quaywatch` processes for the health tests: a site file, start, wait, scrape, stop."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from config.kafka import Kafka
from config.loading import load_site
from streams.broker.embedded import free_port
from tests.fixtures.signing import signing_from_environment

REPO = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"


def write_site(
    directory: Path,
    kafka: Kafka,
    camera_source: Path | None = None,
    model: Path | None = None,
    callback: dict[str, object] | None = None,
) -> Path:
    """A site on loopback with a free port for every endpoint; `callback` adds to the DCSA
    callback endpoint's section."""
    site: dict[str, object] = {
        "site": {"id": "health-test"},
        "data_dir": str(directory / "data"),
        "cameras": [
            {
                "id": "cam-1",
                "source": str(camera_source or directory / "no-camera.avi"),
                "target_fps": 2,
                "resolution": {"width": 768, "height": 576},
            }
        ],
        "zones": [
            {
                "id": "plaza",
                "camera": "cam-1",
                "polygon": [[0, 150], [768, 150], [768, 576], [0, 576]],
                "yard_blocks": ["Q3"],
            }
        ],
        "kafka": {
            "bootstrap_servers": list(kafka.bootstrap_servers),
            "topic_prefix": kafka.topic_prefix,
            "partitions": kafka.partitions,
        },
        "terminal": {"callback": {"port": free_port(), **(callback or {})}},
        "signing": signing_from_environment().model_dump(mode="json"),
        "metrics": {
            "host": LOOPBACK,
            "worker_port": free_port(),
            "correlator_port": free_port(),
            "terminal_port": free_port(),
            "console_port": free_port(),
        },
    }
    if model is not None:
        site["detector"] = {"model": str(model)}
    path = directory / "site.yaml"
    path.write_text(yaml.safe_dump(site))
    return path


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)


def start(
    name: str,
    args: list[str],
    port: int,
    directory: Path,
    stdin: str = "",
    env: dict[str, str] | None = None,
) -> Process:
    """`quaywatch ARGS` with its output in DIRECTORY/NAME.log; `env` adds to the environment."""
    log = directory / f"{name}.log"
    env = {**os.environ, "YOLO_OFFLINE": "1", "PYTHONUNBUFFERED": "1", **(env or {})}
    with log.open("wb") as sink:
        popen = subprocess.Popen(
            [sys.executable, "-m", "quaywatch", *args],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    if stdin:
        assert popen.stdin is not None
        popen.stdin.write(stdin.encode())
        popen.stdin.close()
    return Process(name, popen, log, port)


def start_services(site_path: Path, directory: Path) -> dict[str, Process]:
    """The site's correlator, terminal feed endpoint and console, by name: what needs no camera."""
    ports = load_site(site_path).metrics
    config = ["--config", str(site_path)]
    return {
        "correlator": start("correlator", ["correlate", *config], ports.correlator_port, directory),
        "terminal": start(
            "terminal",
            ["terminal", "serve", *config],
            ports.terminal_port,
            directory,
        ),
        "console": start("console", ["console", *config], ports.console_port, directory),
    }


def get(url: str, auth: tuple[str, str] | None = None, timeout: float = 10) -> tuple[int, str]:
    """Status and body; an HTTP error status is an answer too, a refused connection is not."""
    request = urllib.request.Request(url)
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def health(process: Process) -> tuple[int, dict[str, str]] | None:
    """The /healthz answer, or None while nothing listens."""
    try:
        status, body = get(f"{process.url}/healthz")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None
    return status, json.loads(body)


def wait_for(what: str, check: Callable[[], bool], timeout_s: float, *processes: Process) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        for process in processes:
            if process.popen.poll() is not None:
                raise AssertionError(
                    f"{process.name} exited while waiting for {what}:\n{process.output()}"
                )
        time.sleep(0.5)
    logs = "\n".join(f"--- {p.name}:\n{p.output()}" for p in processes)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}\n{logs}")
