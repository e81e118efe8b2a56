"""Checks shared by the deployment tests: quaywatch command lines against the real CLI."""

from __future__ import annotations

import argparse
import contextlib
import io

from config.site import SiteConfig
from quaywatch.cli import build_parser


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
