"""`quaywatch zones preview`: one frame of a camera with every zone and line drawn and named."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from quaywatch.commands import command_group, site_option, subcommand

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    actions = command_group(subparsers, "zones", help="check zone polygons and lines by eye")
    preview_help = "draw every zone and line of a camera on one of its frames, as PNG"
    preview = subcommand(actions, "preview", run_preview, help=preview_help)
    site_option(preview)
    preview.add_argument("--camera", required=True, metavar="ID")
    preview.add_argument(
        "--frame", type=int, default=0, metavar="N", help="frame of a file to draw on (from 0)"
    )
    preview.add_argument(
        "--out", type=Path, default=None, metavar="PNG", help="default: zones-ID.png"
    )


def run_preview(args: argparse.Namespace) -> int:
    """Read one frame of the camera (the first of a file, the next of a stream) and draw every zone
    shaded and outlined, named with its rule, and every line with arrows pointing the way
    that fires.
    """

    from detectors.preview import PreviewError, write_preview
    from ingest.sources import SourceError

    try:
        preview = write_preview(args.config, args.camera, args.out, args.frame)
    except (SourceError, PreviewError) as error:
        log.error("%s", error)
        return 2
    print(preview.describe())
    return 0
