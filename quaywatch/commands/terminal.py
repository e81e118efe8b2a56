"""`quaywatch terminal`: terminal and customs feeds onto the `terminal` topic."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from config.signing import WriterRole
from config.terminal import FeedFormat
from quaywatch.commands import command_group, require_signing, site_option, subcommand

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    actions = command_group(subparsers, "terminal", help="container events from terminal feeds")
    ingest = subcommand(actions, "ingest", run_ingest, help="read a DCSA or COARRI file once")
    site_option(ingest)
    ingest.add_argument("--format", type=FeedFormat, choices=list(FeedFormat), required=True)
    ingest.add_argument("file", metavar="FILE", help="input file, or - for stdin")
    serve = subcommand(actions, "serve", run_serve, help="HTTP endpoint for DCSA event callbacks")
    site_option(serve)
    serve.add_argument(
        "--host",
        help="address to listen on (default: the site's terminal.callback.host, 127.0.0.1 "
        "unless the site says otherwise)",
    )
    serve.add_argument("--port", type=int, help="port (default: terminal.callback.port)")


def run_ingest(args: argparse.Namespace) -> int:
    from config.clock import running_clock
    from streams.chain import ChainedProducer
    from streams.kafka import require_broker
    from streams.terminal.publish import publish_feed_items

    site = _site(args.config)
    text = _input_text(args.file)
    if text is None:
        return 2
    items = _reader(site, args.format)(text)
    require_broker(site.kafka)  # one line within seconds when none answers, not a minute's wait
    client = ChainedProducer(site.kafka, WriterRole.terminal)
    clock = running_clock(site.terminal.replay_clock_start)
    try:
        published = publish_feed_items(client, items, args.format, clock=clock)
    finally:
        client.close()
    print(f"{published.container_events} container events, {published.rejected} rejected")
    return 0


def _input_text(file: str) -> str | None:
    """The feed's text, or None once one line on stderr has said why the input cannot be read."""
    from streams.terminal.feed_text import NotText, feed_text

    name = "stdin" if file == "-" else file
    try:
        return feed_text(sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes())
    except OSError as error:
        print(f"quaywatch terminal ingest: cannot read {name}: {error.strerror}", file=sys.stderr)
    except NotText as error:
        reason = f"{error}; expected a DCSA JSON or COARRI EDIFACT text file"
        print(f"quaywatch terminal ingest: {name} refused, {reason}", file=sys.stderr)
    return None


def run_serve(args: argparse.Namespace) -> int:
    """Take DCSA Track & Trace callbacks on the site's callback path and publish their events.

    A POST must name one of the site's terminal.callback.subscriptions in Subscription-ID and carry
    Notification-Signature: sha256=<HMAC-SHA256 of the body under that subscription's
    secret>; anything else answers 401 and publishes nothing. Each secret is read at start
    from the variable or file the site names for it. Listens on terminal.callback.host
    (127.0.0.1 unless the site or --host says otherwise) and terminal.callback.port.
    """
    from config.clock import running_clock
    from streams.chain import ChainedProducer
    from streams.health import BrokerProbe, serve_health
    from streams.terminal.callback import CallbackServer, callback_app
    from streams.terminal.metrics import Refusal, TerminalMetrics
    from streams.terminal.publish import publish_feed_items
    from streams.terminal.signature import SecretError, SubscriptionKeys

    site = _site(args.config)
    require_signing(site, args.config, WriterRole.terminal)
    try:
        keys = SubscriptionKeys.from_subscriptions(site.terminal.callback.subscriptions)
    except SecretError as error:
        print(f"quaywatch terminal serve: {args.config}: {error}", file=sys.stderr)
        return 2
    if not keys:
        log.warning(
            "no terminal.callback.subscriptions in %s: every callback is refused", args.config
        )
    limits = site.terminal.callback
    metrics = TerminalMetrics()
    client = ChainedProducer(site.kafka, WriterRole.terminal)
    clock = running_clock(site.terminal.replay_clock_start)
    app = callback_app(
        keys,
        _reader(site, FeedFormat.dcsa),
        lambda items: metrics.published(
            FeedFormat.dcsa, publish_feed_items(client, items, FeedFormat.dcsa, clock=clock)
        ),
        metrics,
        limits,
    )
    host = site.terminal.callback.host if args.host is None else args.host
    port = site.terminal.callback.port if args.port is None else args.port
    try:
        server = CallbackServer(
            app, host, port, limits, on_slow=lambda: metrics.refused(Refusal.slow)
        )
    except OSError as error:
        client.close()
        print(f"quaywatch terminal serve: {error}", file=sys.stderr)
        return 1
    health = serve_health(
        metrics.registry, BrokerProbe(site.kafka), site.metrics.host, site.metrics.terminal_port
    )
    print(f"quaywatch terminal serve: DCSA callbacks on {server.url}{limits.path}", flush=True)
    try:
        server.serve()
    finally:
        client.close()
        if health is not None:
            health.stop()
    return 0


def _site(path: Path):
    from config.loading import load_site

    return load_site(path)


def _reader(site, feed_format: FeedFormat):
    from streams.terminal.coarri import read_coarri
    from streams.terminal.dcsa import read_dcsa

    if feed_format is FeedFormat.dcsa:
        return lambda text: read_dcsa(text, site.terminal.yard_areas, site.terminal.facility_code)
    return lambda text: read_coarri(text, site.terminal.yard_areas, site.site.timezone)
