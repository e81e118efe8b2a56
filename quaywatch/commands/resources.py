"""`quaywatch resources fetch`: the default model and the demo footage, checked and cached."""

from __future__ import annotations

import argparse
from pathlib import Path

from config.exported import ExportError
from config.resources import ResourceError, ensure_dynamic_onnx, ensure_footage, ensure_models
from quaywatch.commands import command_group, subcommand


def register(subparsers: argparse._SubParsersAction) -> None:
    actions = command_group(subparsers, "resources", help="fetch the default model, demo footage")
    fetch = subcommand(actions, "fetch", _fetch, help="fetch into the data directory")
    fetch.add_argument("--data-dir", type=Path, default=Path(".data"), help="default: .data")


def _fetch(args: argparse.Namespace) -> int:
    """Fetch the default model and the demo footage into the data directory, each checked
    against its pinned SHA-256 (a file already there with the right hash is kept), and export
    the dynamic-shape model region inference runs from the fetched weights."""
    try:
        paths = [
            *ensure_models(args.data_dir),
            ensure_dynamic_onnx(args.data_dir),
            ensure_footage(args.data_dir),
        ]
    except (ResourceError, ExportError) as error:
        print(f"quaywatch resources: {error}")
        return 1
    for path in paths:
        print(f"ok {path}")
    return 0
