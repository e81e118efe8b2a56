"""Publishes operator actions to `operator-actions`, waiting for the broker's acks=all, and the
console's dead letters (records its board rejected) to `dead-letter`."""

from __future__ import annotations

import threading

from kafka.errors import KafkaError

from config.kafka import Kafka
from config.signing import WriterRole
from streams.chain import ChainedProducer
from streams.dead_letter import DeadLetter
from streams.kafka import send_answered_within
from streams.operator_actions import OperatorAction
from streams.topics import DEAD_LETTER, OPERATOR_ACTIONS


class ActionNotRecorded(RuntimeError):
    """The broker did not confirm the action; the operator must be told it did not count."""


class ActionPublisher:
    """Sends each action synchronously: an operator told "acknowledged" must be able to rely on
    the acknowledgement being on the topic, so there is no spool and no fire-and-forget."""

    def __init__(self, kafka: Kafka, timeout_seconds: float = 10.0) -> None:
        self._kafka = kafka
        self._timeout_seconds = timeout_seconds
        self._producer: ChainedProducer | None = None
        self._lock = threading.Lock()

    def publish(self, action: OperatorAction) -> OperatorAction:
        stamped = action.stamped()
        try:
            future = self._client().send(OPERATOR_ACTIONS, stamped)
            future.get(timeout=self._timeout_seconds)
        except KafkaError as error:
            raise ActionNotRecorded(
                f"{stamped.action} on alert {stamped.alert_id}: the broker at "
                f"{','.join(self._kafka.bootstrap_servers)} did not confirm it "
                f"({type(error).__name__}: {error}); it was not recorded"
            ) from error
        return stamped

    def reject(self, dead_letter: DeadLetter) -> None:
        """Put a record the console would not act on onto `dead-letter`, with its reason."""
        self._client().send(DEAD_LETTER, dead_letter).get(timeout=self._timeout_seconds)

    def close(self) -> None:
        with self._lock:
            if self._producer is not None:
                self._producer.close(timeout=5)
                self._producer = None

    def _client(self) -> ChainedProducer:
        # Created on first use, so a console started before the broker still serves pages.
        with self._lock:
            if self._producer is None:
                self._producer = ChainedProducer(
                    self._kafka,
                    WriterRole.console,
                    **send_answered_within(int(self._timeout_seconds * 1000)),
                )
            return self._producer
