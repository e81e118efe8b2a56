"""`quaywatch topics create`: the project's topics on a real cluster, as the site config says."""

from __future__ import annotations

import argparse
import logging
import sys
import time

from quaywatch.commands import command_group, site_option, subcommand

log = logging.getLogger(__name__)

RETRY_SECONDS = 3.0


def register(subparsers: argparse._SubParsersAction) -> None:
    actions = command_group(subparsers, "topics", help="create the project's Kafka topics")
    create_help = "create missing topics with the site's partitions, replication and retention"
    create = subcommand(actions, "create", run_create, help=create_help)
    site_option(create)
    create.add_argument(
        "--wait",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="keep retrying this long while the cluster is still starting (120)",
    )


def run_create(args: argparse.Namespace) -> int:
    """Create every quaywatch topic that does not exist yet, with kafka.partitions,
    kafka.replication_factor and kafka.retention_hours of the site config, over the site's
    Kafka security settings. Existing topics are left as they are.
    """
    from kafka.errors import KafkaError

    from config.loading import load_site
    from streams.topics import TopicCreationError, create_topics

    site = load_site(args.config)
    deadline = time.monotonic() + args.wait
    while True:
        try:
            create_topics(site.kafka)
            return 0
        except (KafkaError, TopicCreationError) as error:
            # A cluster that is still electing its controller refuses for a while; the
            # brokers of a compose stack or a fresh StatefulSet come up in any order.
            if time.monotonic() >= deadline:
                print(f"quaywatch topics create: {error}", file=sys.stderr)
                return 1
            log.info("cluster not ready (%s); retrying in %.0f s", error, RETRY_SECONDS)
            time.sleep(RETRY_SECONDS)
