"""`quaywatch demo`: the whole system on this machine, for a newcomer to watch it work."""

from __future__ import annotations

import argparse
from pathlib import Path

DEMO_SITE = Path(__file__).resolve().parents[2] / "config" / "sites" / "demo.yaml"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run broker, worker, correlator and console")
    parser.add_argument("--config", type=Path, default=DEMO_SITE, help="site YAML file")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from config.loading import ConfigError, load_site
    from quaywatch.demo import run_demo

    try:
        site = load_site(args.config)
    except ConfigError as error:
        print("\n".join(error.messages))
        return 1
    return run_demo(args.config, site)
