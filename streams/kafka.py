"""kafka-python clients built from the site's Kafka settings, so security reaches every one.

`config.kafka.Kafka` describes the cluster; this module is the one place that turns it into
client settings, and the one place that knows kafka-python's timeouts. Every producer,
consumer and admin client in quaywatch is made here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.coordinator.base import MemberState
from kafka.errors import KafkaError, KafkaTimeoutError

from config.kafka import TLS_FILES, Kafka

if TYPE_CHECKING:  # streams.topics creates topics with the admin client made here
    from streams.topics import Topic

# Tansu makes a group join wait half the session timeout; a short one keeps joins quick and is
# still well above a healthy poll interval.
SESSION_TIMEOUT_MS = 6000

# Readers ask the broker to answer empty fetches this quickly, so a fresh high-water mark
# arrives within a few of them (kafka-python's default waits 500 ms).
FETCH_MAX_WAIT_MS = 20

# A reader that only tails topics, for days (the console), lets the broker hold an empty fetch
# as long as kafka-python's default: news is still answered at once, and an idle reader costs
# the broker two fetches a second rather than fifty.
TAILING_READER: dict[str, object] = {"fetch_max_wait_ms": 500}

# An audit reads whole logs: bigger fetches per partition mean fewer round trips.
WHOLE_LOG_READER: dict[str, object] = {"max_partition_fetch_bytes": 8 << 20}

# The correlator's alerts go out in bursts (a step's worth, then a flush) and list up to 25
# containers each: with the default 16 KiB batches and one request in flight, every alert
# would wait for its own round trip.
BURST_PRODUCER: dict[str, object] = {"batch_size": 1 << 20}

PRODUCER_DEFAULTS: dict[str, object] = {
    "acks": "all",
    "retries": 5,
    "max_in_flight_requests_per_connection": 1,  # keeps order across retries
    "linger_ms": 5,
}

CONSUMER_DEFAULTS: dict[str, object] = {
    "enable_auto_commit": False,  # offsets are committed only after the work is published
    "auto_offset_reset": "earliest",
    "session_timeout_ms": SESSION_TIMEOUT_MS,
    "heartbeat_interval_ms": 1500,
}

# kafka-python's defaults block for a minute when the broker is gone; the worker must not
# stall that long on start-up, and its spool already holds what could not be sent.
SPOOLING_PRODUCER_TIMEOUTS: dict[str, object] = {
    "bootstrap_timeout_ms": 3000,  # a broker that is down fails the constructor this fast
    "max_block_ms": 3000,  # send() waiting for topic metadata
    "request_timeout_ms": 5000,
    # The producer retries a batch itself for this long, within one idempotent session, so
    # a short outage is bridged without resending (and so without duplicates).
    "delivery_timeout_ms": 30000,
    "reconnect_backoff_ms": 100,
    "reconnect_backoff_max_ms": 1000,
}


def answer_within(timeout_ms: int) -> dict[str, object]:
    """Timeouts for a client that must get an answer, or fail, within `timeout_ms`: a
    health probe, a console action, a check whether a broker is up."""
    return {
        "bootstrap_timeout_ms": timeout_ms,
        "request_timeout_ms": timeout_ms,
        "reconnect_backoff_max_ms": timeout_ms,
    }


def send_answered_within(timeout_ms: int) -> dict[str, object]:
    """Producer settings for a send that is acknowledged, or fails, within `timeout_ms` (an
    operator's action): a broker that is away fails it within the timeout, not minutes."""
    return {
        **answer_within(timeout_ms),
        "max_block_ms": timeout_ms,
        "delivery_timeout_ms": timeout_ms + 100,
    }


def connection_settings(kafka: Kafka) -> dict[str, object]:
    """Connection settings every kafka-python client (producer, consumer, admin) takes."""
    settings: dict[str, object] = {
        "bootstrap_servers": list(kafka.bootstrap_servers),
        "security_protocol": kafka.security_protocol,
    }
    for name in TLS_FILES:
        value = getattr(kafka, name)
        if value is not None:
            settings[name] = str(value)
    if kafka.sasl_mechanism:
        settings["sasl_mechanism"] = kafka.sasl_mechanism
        username = kafka.sasl_username
        if kafka.sasl_username_env:
            username = os.environ.get(kafka.sasl_username_env, username)
        settings["sasl_plain_username"] = username
        password = kafka.sasl_password.get_secret_value() if kafka.sasl_password else None
        if kafka.sasl_password_env:
            password = os.environ.get(kafka.sasl_password_env, password)
        settings["sasl_plain_password"] = password
    return settings


def producer(kafka: Kafka, **overrides: object) -> KafkaProducer:
    return KafkaProducer(**{**PRODUCER_DEFAULTS, **connection_settings(kafka), **overrides})


def consumer(
    kafka: Kafka, group_id: str | None, topics: Iterable[Topic[Any]] = (), **overrides: object
) -> KafkaConsumer:
    settings = {**CONSUMER_DEFAULTS, "group_id": group_id, **connection_settings(kafka)}
    settings.update(overrides)
    return KafkaConsumer(*[kafka.topic(topic) for topic in topics], **settings)


def stable_generation(member: KafkaConsumer) -> int | None:
    """The group generation `member` is a stable member of, or None while it joins, after it
    fell out, or once the coordinator has not answered its heartbeats for a session timeout.

    The last case matters after a stall (a paused process, a starved machine): the coordinator
    has given the partitions to others by then, while kafka-python's own state still says
    stable until its heartbeat thread hears so. kafka-python keeps that clock privately."""
    metadata = member.group_metadata()
    if metadata.state is not MemberState.STABLE:
        return None
    if member._coordinator.heartbeat.session_timeout_expired():
        return None
    return metadata.generation_id


def admin(kafka: Kafka, **overrides: object) -> KafkaAdminClient:
    return KafkaAdminClient(**{**connection_settings(kafka), **overrides})


# How long a command that reads or writes Kafka once waits for the broker before it says that
# none answers: long enough for a loaded broker, short enough for a person waiting.
BROKER_ANSWER_MS = 3000


class BrokerUnreachable(ConnectionError):
    """No broker among the site's bootstrap servers answered a metadata request in time."""

    def __init__(self, kafka: Kafka, timeout_ms: int, cause: str) -> None:
        self.servers = ", ".join(kafka.bootstrap_servers)
        super().__init__(
            f"no Kafka broker answered at {self.servers} within {timeout_ms / 1000:g} s ({cause})"
        )


def require_broker(kafka: Kafka, timeout_ms: int = BROKER_ANSWER_MS) -> None:
    """Return once a broker of `kafka` answers a metadata request; BrokerUnreachable if none
    does within `timeout_ms`, instead of a client's own minute-long bootstrap wait."""
    try:
        client = consumer(kafka, None, **answer_within(timeout_ms))
    except KafkaError as error:
        raise BrokerUnreachable(kafka, timeout_ms, type(error).__name__) from None
    try:
        client.topics()
    except KafkaError as error:
        raise BrokerUnreachable(kafka, timeout_ms, type(error).__name__) from None
    finally:
        client.close()


def bootstrap_failed(error: KafkaError) -> bool:
    """Whether `error` is kafka-python's own bootstrap giving up (a client made while no
    broker answers): commands report it in one line, as they report BrokerUnreachable."""
    return isinstance(error, KafkaTimeoutError) and "bootstrap" in str(error)
