"""`quaywatch correlate`: join access events with the container table and publish alerts."""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from quaywatch.commands import require_signing, site_option, subcommand

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subcommand(subparsers, "correlate", run, help="run a correlator instance")
    site_option(parser)
    parser.add_argument("--group-id", default=None, help="consumer group (default: per site)")
    parser.add_argument(
        "--metrics-port", type=int, default=None, help="default: metrics.correlator_port; 0 off"
    )


def run(args: argparse.Namespace) -> int:
    from config.loading import load_site
    from config.signing import WriterRole
    from streams.correlator.loop import GROUP_ID, READS, Correlator
    from streams.health import BrokerProbe, serve_health
    from streams.kafka import require_broker

    site = load_site(args.config)
    require_signing(site, args.config, WriterRole.correlator, READS)
    require_broker(site.kafka)  # none answering: one line within seconds, not a minute's wait
    correlator = Correlator(site, group_id=args.group_id or f"{GROUP_ID}.{site.site.id}")
    port = site.metrics.correlator_port if args.metrics_port is None else args.metrics_port
    serve_health(correlator.metrics.registry, BrokerProbe(site.kafka), site.metrics.host, port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    log.info("correlating site %s (config %s)", site.site.id, site.config_hash()[:12])
    try:
        correlator.run(stop)
    finally:
        correlator.close()
    return 0
