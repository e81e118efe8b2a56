"""The project's Kafka topics, each declared once with its message type and key, and creating
them, prefixed, on a broker.

Everything that produces or consumes takes one of these declarations rather than a name: the
declaration says which message type a topic's records hold (`ALERTS.decode(value)` is an
`Alert`) and which field of the message its records are keyed by (`ACCESS.key_of(event)` is
the zone id), so no module pairs a topic name with a message type or a key by hand.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Generic

from kafka.errors import TopicAlreadyExistsError, for_code

from config.kafka import Kafka
from config.signing import WriterRole
from streams.access import AccessEvent
from streams.alerts import Alert
from streams.camera_health import CameraHealth
from streams.chain_heads import ChainHead
from streams.correlator_checkpoint import CorrelatorCheckpoint
from streams.dead_letter import DeadLetter
from streams.kafka import admin
from streams.messages import M
from streams.operator_actions import OperatorAction
from streams.terminal.events import ContainerEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Topic(Generic[M]):
    """A topic: its name without the site's prefix (`Kafka.topic` gives the full one), the
    message type its records hold, the message field its records are keyed by, and the writer
    roles whose signed records consumers accept on it."""

    name: str
    message_type: type[M]
    key: str
    writers: frozenset[WriterRole]

    def __post_init__(self) -> None:
        if self.key not in self.message_type.model_fields:
            raise ValueError(
                f"topic {self.name}: {self.message_type.__name__} has no field {self.key!r} "
                f"to key records by; its fields are {', '.join(self.message_type.model_fields)}"
            )

    def require_writer(self, role: WriterRole) -> None:
        """Refuse before sending what no consumer would accept: a record of another role."""
        if role not in self.writers:
            raise PermissionError(f"the {role.value} role may not write {self.name}")

    def key_of(self, message: M) -> str:
        """The key a record of `message` is sent under (which decides its partition)."""
        return getattr(message, self.key)

    def decode(self, value: bytes) -> M:
        """The message a record's value holds; pydantic's ValidationError when it holds none."""
        return self.message_type.from_bytes(value)


CAMERAS, FEEDS = frozenset({WriterRole.camera}), frozenset({WriterRole.terminal})
CORRELATOR, CONSOLE = frozenset({WriterRole.correlator}), frozenset({WriterRole.console})

ACCESS = Topic("access", AccessEvent, key="zone_id", writers=CAMERAS)
CAMERA_HEALTH = Topic("camera-health", CameraHealth, key="camera_id", writers=CAMERAS)
TERMINAL = Topic("terminal", ContainerEvent, key="container_number", writers=FEEDS)
ALERTS = Topic("alerts", Alert, key="alert_id", writers=CORRELATOR)
OPERATOR_ACTIONS = Topic("operator-actions", OperatorAction, key="alert_id", writers=CONSOLE)
# Whoever rejects input says so there: the feeds, the correlator and the console.
DEAD_LETTER = Topic("dead-letter", DeadLetter, key="source", writers=FEEDS | CORRELATOR | CONSOLE)
# Every producer publishes where its own chains stand (streams.chain_heads).
CHAIN_HEADS = Topic("chain-heads", ChainHead, key="producer_id", writers=frozenset(WriterRole))
# The correlator's container table, now and then (streams.correlator.checkpoint).
CHECKPOINTS = Topic(
    "correlator-checkpoints", CorrelatorCheckpoint, key="checkpoint_id", writers=CORRELATOR
)

TOPICS: tuple[Topic[Any], ...] = (
    ACCESS,
    CAMERA_HEALTH,
    TERMINAL,
    ALERTS,
    OPERATOR_ACTIONS,
    DEAD_LETTER,
    CHAIN_HEADS,
    CHECKPOINTS,
)


TOPIC_NAMED: dict[str, Topic[Any]] = {topic.name: topic for topic in TOPICS}


def written_by(role: WriterRole) -> tuple[Topic[Any], ...]:
    """The topics whose records consumers accept from `role`."""
    return tuple(topic for topic in TOPICS if role in topic.writers)


class TopicCreationError(RuntimeError):
    """The broker refused to create one of the project's topics."""


def topic_configs(kafka: Kafka) -> dict[str, str]:
    """Per-topic broker settings: the records keep the timestamps their producers chained them
    with (a broker stamping its own would break every link), and the site's retention."""
    configs = {"message.timestamp.type": "CreateTime"}
    if kafka.retention_hours is not None:
        configs["retention.ms"] = str(round(kafka.retention_hours * 3600 * 1000))
    return configs


# Only the latest checkpoint is ever loaded; two days of them outlast any restart.
CHECKPOINT_RETENTION_MS = str(2 * 86400 * 1000)


def configs_of(kafka: Kafka, topic: Topic[Any]) -> dict[str, str]:
    configs = topic_configs(kafka)
    if topic is CHECKPOINTS:
        configs["retention.ms"] = CHECKPOINT_RETENTION_MS
    return configs


def create_topics(kafka: Kafka) -> None:
    """Create every project topic that does not exist yet; existing topics are left as they are."""
    client = admin(kafka)
    try:
        response = client.create_topics(
            {
                kafka.topic(topic): {
                    "num_partitions": kafka.partitions,
                    "replication_factor": kafka.replication_factor,
                    "configs": configs_of(kafka, topic),
                }
                for topic in TOPICS
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
