"""`quaywatch tune`: run site configs over recorded footage without a broker, and measure them."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from quaywatch.commands import site_option, subcommand

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subcommand(
        subparsers,
        "tune",
        run,
        help="run a config over footage: annotated video, figures, precision/recall",
    )
    which = parser.add_mutually_exclusive_group(required=True)
    site_option(which, required=False)
    which.add_argument(
        "--compare",
        type=Path,
        nargs="+",
        metavar="SITE",
        help="two or more site YAML files through the same footage",
    )
    parser.add_argument("--camera", metavar="ID", help="camera (default: the site's only one)")
    parser.add_argument(
        "--footage", type=Path, metavar="FILE", help="video file (default: the camera's source)"
    )
    parser.add_argument(
        "--labels", type=Path, metavar="FILE", help="ground truth, MOT Challenge gt.txt format"
    )
    parser.add_argument(
        "--out", type=Path, default=None, metavar="DIR", help="output folder (default: tune-ID)"
    )
    parser.add_argument(
        "--frames",
        type=int,
        default=None,
        metavar="N",
        help="only the first N frames of the footage file (its own frames, as labels count "
        "them); the camera's target_fps samples them as the worker does, so fewer may be "
        "analysed: the output says how many and why",
    )
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="with --labels: try a grid of each zone's score and confirmation settings and "
        "print the precision/recall frontier and the recommended change as a diff",
    )
    parser.add_argument(
        "--target-precision",
        type=float,
        default=0.9,
        metavar="P",
        help="precision --sweep aims for before it maximises recall (default 0.9)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Run the worker's detection path (motion gate, model, tracker, zone rules) over recorded
    footage with no broker. Writes an annotated MP4, a contact sheet of key frames and
    summary.json; with --labels (MOT Challenge gt.txt) also precision and recall of events
    and detections. --compare runs several configs side by side.
    """

    from detectors.evaluation.labels import LabelsError
    from detectors.evaluation.run import TuneError
    from detectors.evaluation.session import tune
    from detectors.model import ModelError
    from ingest.sources import SourceError

    if args.compare is not None and len(args.compare) < 2:
        log.error("--compare needs two or more site files")
        return 2
    if args.frames is not None and args.frames < 1:
        log.error("--frames must be 1 or more, got %d", args.frames)
        return 2
    if args.sweep:
        return _sweep(args)
    try:
        report = tune(
            args.compare or [args.config],
            args.camera,
            args.out,
            args.footage,
            args.labels,
            args.frames,
            progress=not args.no_progress,
        )
    except (LabelsError, TuneError, SourceError, ModelError) as error:
        log.error("%s", error)
        return 2
    print(report.text())
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from detectors.evaluation.labels import LabelsError
    from detectors.evaluation.run import TuneError
    from detectors.evaluation.sweep import SweepDiffError, sweep
    from detectors.model import ModelError
    from ingest.sources import SourceError

    if args.labels is None or args.compare is not None:
        log.error("--sweep needs --labels and one --config")
        return 2
    if not 0 < args.target_precision <= 1:
        log.error("--target-precision must be in (0, 1], got %s", args.target_precision)
        return 2
    try:
        report = sweep(
            args.config,
            args.labels,
            args.camera,
            args.footage,
            args.frames,
            args.target_precision,
            args.out or Path("tune-sweep"),
            progress=not args.no_progress,
        )
    except (LabelsError, TuneError, SourceError, ModelError, SweepDiffError) as error:
        log.error("%s", error)
        return 2
    print(report.text(), end="")
    return 0
