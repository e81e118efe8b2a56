"""The embedded broker as a service: started with the project's topics, run until asked to stop.

It takes over SIGINT and SIGTERM while it runs, so it belongs in a process's main thread:

    broker = EmbeddedBroker(data_dir=Path(".data/broker"), port=site_port(site.kafka))
    serve(broker, site.kafka, ready=print)  # returns after SIGINT or SIGTERM
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from config.kafka import Kafka
from streams.broker.embedded import KAFKA_PORT, EmbeddedBroker
from streams.topics import create_topics

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


def site_port(kafka: Kafka) -> int:
    """The port of the site's first bootstrap server when that server is this machine, else 9092.

    The embedded broker then listens where the site's clients already look for it.
    """
    host, _, port = kafka.bootstrap_servers[0].rpartition(":")
    if host in LOOPBACK_HOSTS and port.isdigit():
        return int(port) or KAFKA_PORT
    return KAFKA_PORT


def serve(broker: EmbeddedBroker, layout: Kafka, ready: Callable[[str], None]) -> None:
    """Start `broker`, create the topics of `layout`, call `ready(bootstrap)`, run until stopped.

    Returns once SIGINT or SIGTERM asks it to stop; raises BrokerError when the broker cannot
    start or stops by itself, and TopicCreationError when the topics cannot be created. The
    broker is stopped, and the previous signal handlers are back, however it ends.
    """
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
                topic_prefix=layout.topic_prefix,
                partitions=layout.partitions,
                replication_factor=1,
            )
        )
        ready(broker.bootstrap)
        while not stopping.wait(1.0):
            broker.check_running()
    finally:
        broker.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
