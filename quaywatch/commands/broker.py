"""`quaywatch broker`: run the embedded Kafka broker, with the project's topics, until stopped."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from config.kafka import Kafka

log = logging.getLogger(__name__)

DEFAULT_PORT = 9092
DEFAULT_DATA_DIR = Path(".data")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "broker",
        help="run the embedded Kafka broker on 127.0.0.1",
        description="Start the embedded Kafka-protocol broker (Tansu) on 127.0.0.1, create the "
        "project's topics, print the bootstrap address and run until SIGINT or SIGTERM. "
        "Durable by default: topics live in S3 storage (nanio) under DATA_DIR/broker.",
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
        f"loopback bootstrap server, else {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--config", type=Path, metavar="SITE", help="site config: topic prefix and partitions"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from config.loading import ConfigError, load_site
    from streams.broker.embedded import BrokerError, EmbeddedBroker
    from streams.topics import TopicCreationError, create_topics

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
    port = args.port if args.port is not None else _loopback_port(site_kafka) or DEFAULT_PORT
    if not 0 <= port <= 65535:
        print(f"--port: must be 0..65535, got {port}", file=sys.stderr)
        return 2
    broker_dir = (args.data_dir or data_dir) / "broker"
    broker = EmbeddedBroker(
        data_dir=None if args.memory else broker_dir, port=port, memory=args.memory
    )

    stopping = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("%s received, stopping the broker", signal.Signals(signum).name)
        stopping.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        broker.start()
        # The embedded broker is one plaintext node: only the topic layout comes from the site.
        create_topics(
            Kafka(
                bootstrap_servers=[broker.bootstrap],
                topic_prefix=site_kafka.topic_prefix,
                partitions=site_kafka.partitions,
                replication_factor=1,
            )
        )
        print(broker.bootstrap, flush=True)
        while not stopping.wait(1.0):
            if not broker.running():
                log.error("the broker stopped by itself; see the logs in %s", broker_dir / "logs")
                return 1
        return 0
    except (BrokerError, TopicCreationError) as error:
        print(f"quaywatch broker: {error}", file=sys.stderr)
        return 1
    finally:
        broker.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _loopback_port(kafka: Kafka) -> int | None:
    """The port of the site's first bootstrap server when that server is this machine."""
    host, _, port = kafka.bootstrap_servers[0].rpartition(":")
    if host in ("127.0.0.1", "localhost") and port.isdigit():
        return int(port)
    return None
