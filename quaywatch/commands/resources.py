"""`quaywatch resources fetch`: the default model and the demo footage, checked and cached."""

from __future__ import annotations

import argparse
from pathlib import Path

from config.resources import ResourceError, ensure_footage, ensure_models


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("resources", help="fetch the default model and demo footage")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    fetch = actions.add_parser("fetch", help="fetch into the data directory, checking SHA-256")
    fetch.add_argument("--data-dir", type=Path, default=Path(".data"), help="default: .data")
    fetch.set_defaults(run=_fetch)


def _fetch(args: argparse.Namespace) -> int:
    try:
        paths = [*ensure_models(args.data_dir), ensure_footage(args.data_dir)]
    except ResourceError as error:
        print(f"quaywatch resources: {error}")
        return 1
    for path in paths:
        print(f"ok {path}")
    return 0
