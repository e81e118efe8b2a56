"""`quaywatch worker`: watch a site's cameras and publish access events and camera health."""

from __future__ import annotations

import argparse
import logging
import signal

from quaywatch.commands import require_signing, site_option, subcommand

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subcommand(subparsers, "worker", run, help="watch cameras, publish access events")
    site_option(parser)
    parser.add_argument(
        "--camera",
        action="append",
        default=[],
        metavar="ID",
        help="camera to watch (repeat for several; default: every enabled camera)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop each video file after this much media time (to replay a stretch)",
    )


def run(args: argparse.Namespace) -> int:
    """Read the site's cameras, run the detector and zone rules, and publish access events and
    camera health to Kafka (spooled to disk while it is away).
    """

    from config.loading import load_site
    from config.signing import WriterRole
    from config.site import UnknownCamera
    from detectors.model import ModelError
    from streams.worker.worker import Worker

    site = load_site(args.config)
    require_signing(site, args.config, WriterRole.camera)
    try:
        for camera_id in args.camera:
            site.camera(camera_id)
    except UnknownCamera as error:
        log.error("%s: %s", args.config, error)
        return 2
    try:
        worker = Worker(site, args.camera, stop_after_s=args.duration, config_path=args.config)
    except ModelError as error:
        log.error("%s: %s", args.config, error)
        return 2
    worker.metrics.serve(site.metrics.worker_port, site.kafka, site.metrics.host)
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: worker.stop())
    # SIGHUP re-reads the site file, as daemons do; a changed file is also noticed by itself.
    signal.signal(signal.SIGHUP, lambda *_: worker.request_reload())
    try:
        return worker.run()
    finally:
        worker.publisher.close()
