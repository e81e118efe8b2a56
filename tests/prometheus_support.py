"""Prometheus's own tools for the tests (Debian package `prometheus`): promtool, where the rule
file's unit tests are, and a real Prometheus server on loopback."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

from streams.broker.embedded import free_port
from tests.monitoring import RULES

RULE_TESTS = RULES.with_name("quaywatch-rules_test.yml")


def debian_binary(name: str) -> str:
    """Path of a binary of the Debian `prometheus` package, or an error saying how to get it."""
    path = shutil.which(name)
    if path is None:
        raise AssertionError(f"{name} not found: install the Debian package `prometheus`")
    return path


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """promtool's exit status and its report: stdout and stderr in one, in the order written
    (it reports each file on stdout and that file's failures on stderr)."""
    return subprocess.run(
        [debian_binary("promtool"), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
    )


class PrometheusServer:
    """A real Prometheus on loopback with a config the test writes, its data in `directory`."""

    def __init__(self, config: dict, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.config_path = directory / "prometheus.yml"
        self.config_path.write_text(yaml.safe_dump(config))
        self.log = directory / "prometheus.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 60) -> PrometheusServer:
        with self.log.open("wb") as sink:
            self._process = subprocess.Popen(
                [
                    debian_binary("prometheus"),
                    f"--config.file={self.config_path}",
                    f"--storage.tsdb.path={self.directory / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                ],
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise AssertionError(f"prometheus exited:\n{self.output()}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"prometheus not ready after {timeout_s:.0f} s:\n{self.output()}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def api(self, path: str, **params: str) -> dict:
        """The `data` of an HTTP API answer; an error answer fails, saying what Prometheus said."""
        url = f"{self.url}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as error:
            answer = json.loads(error.read() or b"{}")
        assert answer.get("status") == "success", f"{path} {params}: {answer}"
        return answer["data"]

    def query(self, expr: str) -> list[dict]:
        data = self.api("query", query=expr)
        assert data["resultType"] in {"vector", "scalar", "matrix", "string"}, data
        return data["result"] if data["resultType"] == "vector" else [data["result"]]

    def alerts(self) -> list[dict]:
        return self.api("alerts")["alerts"]
