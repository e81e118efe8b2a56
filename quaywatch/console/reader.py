"""Reads the console's topics from the beginning into the board, on a background thread.

Each console reads every partition itself (assign, not a consumer group): every console must
see every alert, and a group would split them. Positions start at the beginning of each
partition rather than at the end, because the end offsets the embedded broker reports are
not reliable; the board makes replaying everything idempotent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError
from pydantic import ValidationError

from config.kafka import Kafka
from quaywatch.console.board import Board
from streams.alerts import Alert
from streams.camera_health import CameraHealth
from streams.kafka import consumer
from streams.operator_actions import OperatorAction

log = logging.getLogger(__name__)

# How often partitions are looked up again: a topic created after the console started, or
# partitions added to one, are picked up this late.
REFRESH_SECONDS = 5.0


class TopicReader:
    def __init__(self, kafka: Kafka, board: Board) -> None:
        self._kafka = kafka
        self._appliers: dict[str, Callable[[bytes], None]] = {
            kafka.topic("alerts"): lambda raw: board.apply_alert(Alert.from_bytes(raw)),
            kafka.topic("operator-actions"): lambda raw: board.apply_action(
                OperatorAction.from_bytes(raw)
            ),
            kafka.topic("camera-health"): lambda raw: board.apply_health(
                CameraHealth.from_bytes(raw)
            ),
        }
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="console-reader", daemon=True)
        self.records_read = 0
        self.records_rejected = 0
        self.connected = False

    def start(self) -> TopicReader:
        self._thread.start()
        return self

    def stop(self, timeout_seconds: float = 5.0) -> None:
        self._stopping.set()
        self._thread.join(timeout_seconds)

    def _run(self) -> None:
        while not self._stopping.is_set():
            kafka_consumer: KafkaConsumer | None = None
            try:
                kafka_consumer = consumer(self._kafka, group_id=None)
                self.connected = True
                self._read(kafka_consumer)
            except KafkaError as error:
                log.warning(
                    "console reader: broker %s: %s; retrying",
                    ",".join(self._kafka.bootstrap_servers),
                    error,
                )
                self._stopping.wait(2.0)
            finally:
                self.connected = False
                if kafka_consumer is not None:
                    kafka_consumer.close()

    def _read(self, kafka_consumer: KafkaConsumer) -> None:
        assigned: set[TopicPartition] = set()
        next_refresh = 0.0
        while not self._stopping.is_set():
            if time.monotonic() >= next_refresh:
                assigned = self._assign(kafka_consumer, assigned)
                next_refresh = time.monotonic() + REFRESH_SECONDS
            if not assigned:
                self._stopping.wait(0.5)
                continue
            batches = kafka_consumer.poll(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    self._apply(record)

    def _assign(
        self, kafka_consumer: KafkaConsumer, assigned: set[TopicPartition]
    ) -> set[TopicPartition]:
        wanted: set[TopicPartition] = set()
        for topic in self._appliers:
            partitions = kafka_consumer.partitions_for_topic(topic) or set()
            wanted.update(TopicPartition(topic, partition) for partition in partitions)
        if wanted == assigned:
            return assigned
        # assign() forgets positions, so the partitions already read keep theirs explicitly.
        positions = {tp: kafka_consumer.position(tp) for tp in assigned if tp in wanted}
        kafka_consumer.assign(sorted(wanted))
        for tp in sorted(wanted):
            if tp in positions:
                kafka_consumer.seek(tp, positions[tp])
            else:
                kafka_consumer.seek_to_beginning(tp)
        missing = [t for t in self._appliers if not any(tp.topic == t for tp in wanted)]
        if missing:
            log.info("console reader: waiting for topics %s", ", ".join(missing))
        return wanted

    def _apply(self, record: ConsumerRecord) -> None:
        self.records_read += 1
        try:
            self._appliers[record.topic](record.value)
        except (ValidationError, ValueError) as error:
            # One bad message must not stop the console; it stays on the topic for the audit.
            self.records_rejected += 1
            log.warning(
                "console reader: %s partition %d offset %d is not a valid message: %s",
                record.topic,
                record.partition,
                record.offset,
                str(error).splitlines()[0],
            )
