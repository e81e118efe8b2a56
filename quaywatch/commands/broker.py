"""`quaywatch broker`: run the embedded Kafka broker, with the project's topics, until stopped."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from quaywatch.commands import site_option, subcommand
from streams.broker.embedded import KAFKA_PORT

DEFAULT_DATA_DIR = Path(".data")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subcommand(
        subparsers, "broker", run, help="run the embedded Kafka broker on 127.0.0.1"
    )
    parser.add_argument(
        "--memory", action="store_true", help="keep everything in memory; lost when stopped"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="data directory; the broker keeps storage and logs in its broker/ folder "
        "(default: the site's data_dir, else .data)",
    )
    parser.add_argument(
        "--port",
        type=int,
        help="port on 127.0.0.1; 0 picks a free one (default: the port of the site's "
        f"loopback bootstrap server, else {KAFKA_PORT})",
    )
    site_option(parser, "site config: topic prefix and partitions", required=False)


def run(args: argparse.Namespace) -> int:
    """Start the embedded Kafka-protocol broker (Tansu) on 127.0.0.1, create the project's topics,
    print the bootstrap address and run until SIGINT or SIGTERM. Durable by default: topics
    live in S3 storage (nanio) under DATA_DIR/broker.
    """

    from config.kafka import Kafka
    from config.loading import ConfigError, load_site
    from streams.broker.embedded import BrokerError, EmbeddedBroker
    from streams.broker.service import serve, site_port
    from streams.topics import TopicCreationError

    if not args.verbose:
        # kafka-python logs every connection at INFO; the broker's own lines are what matter.
        logging.getLogger("kafka").setLevel(logging.WARNING)
    site_kafka, data_dir = Kafka(), DEFAULT_DATA_DIR
    if args.config is not None:
        try:
            site = load_site(args.config)
        except (ConfigError, OSError) as error:
            print(f"{args.config}: cannot use this site config:\n{error}", file=sys.stderr)
            return 1
        site_kafka, data_dir = site.kafka, site.data_dir
    port = args.port if args.port is not None else site_port(site_kafka)
    if not 0 <= port <= 65535:
        print(f"--port: must be 0..65535, got {port}", file=sys.stderr)
        return 2
    broker_dir = None if args.memory else (args.data_dir or data_dir) / "broker"
    broker = EmbeddedBroker(data_dir=broker_dir, port=port, memory=args.memory)
    try:
        serve(broker, site_kafka, ready=lambda bootstrap: print(bootstrap, flush=True))
    except (BrokerError, TopicCreationError) as error:
        print(f"quaywatch broker: {error}", file=sys.stderr)
        return 1
    return 0
