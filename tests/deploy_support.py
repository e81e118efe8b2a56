"""Checks shared by the deployment tests: quaywatch command lines against the real CLI, and
the Kafka ACLs that deploy/kafka-acls.sh grants."""

from __future__ import annotations

import argparse
import contextlib
import io
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from config.signing import WriterRole
from config.site import SiteConfig
from quaywatch.cli import build_parser

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
ACL_SCRIPT = DEPLOY / "kafka-acls.sh"
KAFKA_ACLS = "/opt/kafka/bin/kafka-acls.sh"
# The writer role of each long-running quaywatch command: whose key it signs with.
COMMAND_ROLES = {
    command: WriterRole(role)
    for command, role in [("worker", "camera"), ("correlate", "correlator")]
    + [("terminal", "terminal"), ("console", "console")]
}


def parse_quaywatch(args: list[str]) -> argparse.Namespace:
    """The parsed command line, or a test failure that shows argparse's complaint."""
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            return build_parser().parse_args(args)
    except SystemExit:
        raise AssertionError(f"quaywatch {' '.join(args)}: {stderr.getvalue()}") from None


def health_port(parsed: argparse.Namespace, site: SiteConfig) -> int | None:
    """The port where this process serves /metrics and /healthz (None: a one-shot job)."""
    if parsed.command == "worker":
        return site.metrics.worker_port
    if parsed.command == "correlate":
        return (
            parsed.metrics_port if parsed.metrics_port is not None else site.metrics.correlator_port
        )
    if parsed.command == "terminal" and parsed.terminal_command == "serve":
        return site.metrics.terminal_port
    if parsed.command == "console":
        return parsed.port if parsed.port is not None else site.metrics.console_port
    return None


def listen_host(parsed: argparse.Namespace, site: SiteConfig) -> str | None:
    """The address the console or the callback endpoint listens on (None: neither)."""
    if parsed.command == "console":
        return parsed.host
    if parsed.command == "terminal" and parsed.terminal_command == "serve":
        return parsed.host if parsed.host is not None else site.terminal.callback.host
    return None


def served_ports(parsed: argparse.Namespace, site: SiteConfig) -> set[int]:
    """Every port the process listens on."""
    ports = {health_port(parsed, site)} - {None}
    if parsed.command == "terminal" and parsed.terminal_command == "serve":
        ports.add(parsed.port if parsed.port is not None else site.terminal.callback.port)
    return ports  # type: ignore[return-value]


@dataclass(frozen=True)
class Grant:
    """One `kafka-acls.sh --add` call: a principal allowed operations on one resource."""

    principal: str
    operations: frozenset[str]
    resource: str  # topic or group
    name: str
    pattern: str  # literal or prefixed


def acl_grants(topic_prefix: str) -> list[Grant]:
    """The grants deploy/kafka-acls.sh makes, found by running it with kafka-acls.sh replaced by
    a recorder, so what is checked is what the shell would really call."""
    script = ACL_SCRIPT.read_text()
    assert KAFKA_ACLS in script, f"{ACL_SCRIPT} no longer calls {KAFKA_ACLS}"
    recorded = subprocess.run(
        ["sh", "-c", script.replace(KAFKA_ACLS, "echo"), "kafka-acls"],
        env={
            "KAFKA_BOOTSTRAP": "b:9092",
            "ADMIN_CONFIG": "admin.properties",
            "TOPIC_PREFIX": topic_prefix,
        },
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return [_grant(shlex.split(line)) for line in recorded.stdout.splitlines()]


def _grant(args: list[str]) -> Grant:
    assert args[:5] == [
        "--bootstrap-server",
        "b:9092",
        "--command-config",
        "admin.properties",
        "--add",
    ], args
    options: dict[str, list[str]] = {}
    for flag, value in zip(args[5::2], args[6::2], strict=True):
        options.setdefault(flag, []).append(value)
    (resource,) = {"--topic", "--group"} & options.keys()
    assert set(options) <= {
        "--allow-principal",
        "--operation",
        resource,
        "--resource-pattern-type",
    }, args
    (principal,) = options["--allow-principal"]
    (name,) = options[resource]
    return Grant(
        principal=principal.removeprefix("User:"),
        operations=frozenset(options["--operation"]),
        resource=resource.removeprefix("--"),
        name=name,
        pattern=options.get("--resource-pattern-type", ["literal"])[0],
    )
