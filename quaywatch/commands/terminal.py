"""`quaywatch terminal`: terminal and customs feeds onto the `terminal` topic."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("terminal", help="ingest container events from terminal feeds")
    actions = parser.add_subparsers(dest="terminal_command", required=True, metavar="ACTION")

    ingest = actions.add_parser("ingest", help="read a DCSA or COARRI file (or stdin) once")
    ingest.add_argument("--config", type=Path, required=True, help="site YAML file")
    ingest.add_argument("--format", choices=["dcsa", "coarri"], required=True)
    ingest.add_argument("file", metavar="FILE", help="input file, or - for stdin")
    ingest.set_defaults(run=run_ingest)

    serve = actions.add_parser("serve", help="HTTP endpoint for DCSA event callbacks")
    serve.add_argument("--config", type=Path, required=True, help="site YAML file")
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on")
    serve.add_argument("--port", type=int, help="port (default: terminal.callback_port)")
    serve.set_defaults(run=run_serve)


def run_ingest(args: argparse.Namespace) -> int:
    from streams.chain import ChainedProducer
    from streams.terminal.publish import publish_feed_items

    site = _site(args.config)
    text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    items = _reader(site, args.format)(text)
    client = ChainedProducer(site.kafka, "terminal")
    try:
        published = publish_feed_items(client, items, args.format)
    finally:
        client.close()
    print(f"{published.container_events} container events, {published.rejected} rejected")
    return 0


def run_serve(args: argparse.Namespace) -> int:
    from streams.chain import ChainedProducer
    from streams.health import BrokerProbe, serve_health
    from streams.terminal.callback import callback_server
    from streams.terminal.metrics import TerminalMetrics
    from streams.terminal.publish import publish_feed_items

    site = _site(args.config)
    client = ChainedProducer(site.kafka, "terminal")
    read = _reader(site, "dcsa")
    port = site.terminal.callback_port if args.port is None else args.port
    metrics = TerminalMetrics()
    server = callback_server(
        args.host,
        port,
        lambda body: metrics.published("dcsa", publish_feed_items(client, read(body), "dcsa")),
    )
    health = serve_health(
        metrics.registry, BrokerProbe(site.kafka), site.metrics.host, site.metrics.terminal_port
    )
    log.info("DCSA callbacks on http://%s:%d/", args.host, server.server_address[1])
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        client.close()
        if health is not None:
            health.stop()
    return 0


def _site(path: Path):
    from config.loading import load_site

    return load_site(path)


def _reader(site, feed_format: str):
    from streams.terminal.coarri import read_coarri
    from streams.terminal.dcsa import read_dcsa

    if feed_format == "dcsa":
        return lambda text: read_dcsa(text, site.terminal.yard_areas, site.terminal.facility_code)
    return lambda text: read_coarri(text, site.terminal.yard_areas, site.site.timezone)
