"""kafka-python clients built from the site's Kafka settings, so security reaches every one."""

from __future__ import annotations

from collections.abc import Iterable

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from config.site import Kafka

# Tansu makes a group join wait half the session timeout; a short one keeps joins quick and is
# still well above a healthy poll interval.
SESSION_TIMEOUT_MS = 6000


def producer(kafka: Kafka, **overrides: object) -> KafkaProducer:
    settings: dict[str, object] = {
        "acks": "all",
        "retries": 5,
        "max_in_flight_requests_per_connection": 1,  # keeps order across retries
        "linger_ms": 5,
        **kafka.client_kwargs(),
    }
    settings.update(overrides)
    return KafkaProducer(**settings)


def consumer(
    kafka: Kafka, group_id: str | None, topics: Iterable[str] = (), **overrides: object
) -> KafkaConsumer:
    settings: dict[str, object] = {
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": SESSION_TIMEOUT_MS,
        "heartbeat_interval_ms": 1500,
        **kafka.client_kwargs(),
    }
    settings.update(overrides)
    return KafkaConsumer(*[kafka.topic(name) for name in topics], **settings)


def admin(kafka: Kafka, **overrides: object) -> KafkaAdminClient:
    return KafkaAdminClient(**{**kafka.client_kwargs(), **overrides})
