"""The project's Kafka topics, and creating them, prefixed, on a broker."""

from __future__ import annotations

import logging

from kafka.errors import TopicAlreadyExistsError, for_code

from config.kafka import Kafka
from streams.kafka import admin

log = logging.getLogger(__name__)

TOPIC_NAMES = ("access", "camera-health", "terminal", "alerts", "operator-actions", "dead-letter")


class TopicCreationError(RuntimeError):
    """The broker refused to create one of the project's topics."""


def topic_configs(kafka: Kafka) -> dict[str, str]:
    """Per-topic broker settings taken from the site config (empty: the broker's defaults)."""
    if kafka.retention_hours is None:
        return {}
    return {"retention.ms": str(round(kafka.retention_hours * 3600 * 1000))}


def create_topics(kafka: Kafka) -> None:
    """Create every project topic that does not exist yet; existing topics are left as they are."""
    client = admin(kafka)
    try:
        response = client.create_topics(
            {
                kafka.topic(name): {
                    "num_partitions": kafka.partitions,
                    "replication_factor": kafka.replication_factor,
                    "configs": topic_configs(kafka),
                }
                for name in TOPIC_NAMES
            },
            # Errors are per topic: one that exists must not hide a real failure on another.
            raise_errors=False,
        )
    finally:
        client.close()
    for topic in response["topics"]:
        error = for_code(topic["error_code"])
        if topic["error_code"] == 0:
            log.info("created topic %s with %d partitions", topic["name"], kafka.partitions)
        elif error is not TopicAlreadyExistsError:
            raise TopicCreationError(
                f"cannot create topic {topic['name']} on {','.join(kafka.bootstrap_servers)}: "
                f"{error.__name__}: {topic.get('error_message') or error.description}"
            )
