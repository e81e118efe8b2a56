"""Subcommands of the quaywatch command, one module each, and what they all declare alike."""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from config.signing import WriterRole
    from config.site import SiteConfig
    from streams.topics import Topic

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


def require_signing(
    site: SiteConfig, config: Path, role: WriterRole, reads: Iterable[Topic[Any]] = ()
) -> None:
    """Refuse to start a `role` process that could not sign what it writes, or that would
    reject everything it reads because the site trusts no key of that topic's writers: a
    SigningKeyError, which `quaywatch` reports in one line, before any port or broker is used.
    """
    from config.signing import SigningKeyError
    from streams.signing import signer_for

    signer_for(role)
    trusted = {key.role for key in site.signing.keys}
    for topic in reads:
        if not topic.writers & trusted:
            writers = " or ".join(sorted(writer.value for writer in topic.writers))
            raise SigningKeyError(
                f"{config}: signing: no trusted key of the {writers} role, so every "
                f"{topic.name} record would be rejected; list its public key under signing.keys"
            )
