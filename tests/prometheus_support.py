"""Prometheus's own tools for the tests: promtool (Debian package `prometheus`) and where the
rule file's unit tests are."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

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
