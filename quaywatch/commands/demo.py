"""`quaywatch demo`: the whole system on this machine, for a newcomer to watch it work."""

from __future__ import annotations

import argparse
from pathlib import Path

from quaywatch.commands import site_option, subcommand

DEMO_SITE = Path(__file__).resolve().parents[2] / "config" / "sites" / "demo.yaml"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subcommand(subparsers, "demo", _run, help="run broker, worker, correlator, console")
    site_option(parser, required=False, default=DEMO_SITE)
    parser.add_argument(
        "--memory",
        action="store_true",
        help="keep the broker's log in memory, lost at Ctrl-C (default: durable in the site's "
        "data_dir/broker, so `quaywatch audit ... --embedded-broker` can audit the run)",
    )


def _run(args: argparse.Namespace) -> int:
    from config.loading import load_site
    from quaywatch.demo import ensure_role_keys, run_demo

    # The demo makes its roles' keys where its config says they are, then loads it for real.
    keys = ensure_role_keys(load_site(args.config, check_keys=False))
    return run_demo(args.config, load_site(args.config), keys, memory=args.memory)
