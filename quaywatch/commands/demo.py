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
    from config.loading import load_site
    from quaywatch.demo import run_demo

    return run_demo(args.config, load_site(args.config))
