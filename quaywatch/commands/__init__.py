"""Subcommands of the quaywatch command, one module each, and the two things they all declare."""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable
from pathlib import Path

Run = Callable[[argparse.Namespace], int]


def subcommand(
    subparsers: argparse._SubParsersAction, name: str, run: Run, help: str
) -> argparse.ArgumentParser:
    """Declare `quaywatch NAME ...`: `help` is its line in the list of commands; `run(args)`
    does the work and returns the exit code, and its docstring is the command's --help text."""
    description = inspect.cleandoc(run.__doc__) if run.__doc__ else None
    parser = subparsers.add_parser(name, help=help, description=description)
    parser.set_defaults(run=run)
    return parser


def site_option(
    parser: argparse.ArgumentParser | argparse._ActionsContainer,
    help: str = "site YAML file",
    required: bool = True,
    default: Path | None = None,
) -> None:
    """`--config SITE`: the site file a command reads (cameras, zones, Kafka, windows, ports)."""
    parser.add_argument(
        "--config", type=Path, required=required, default=default, metavar="SITE", help=help
    )


def command_group(
    subparsers: argparse._SubParsersAction, name: str, help: str
) -> argparse._SubParsersAction:
    """Declare `quaywatch NAME ACTION ...`; each action is a `subcommand` of what this returns."""
    parser = subparsers.add_parser(name, help=help)
    return parser.add_subparsers(dest=f"{name}_command", required=True, metavar="ACTION")
