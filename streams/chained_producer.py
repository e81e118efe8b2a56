"""The producer every quaywatch process sends with: each record chained and signed with the key
of its writer role (`streams.chain`), and the chains' heads published on `chain-heads`
(`streams.chain_heads`) every so many records or seconds and when it closes."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any, NamedTuple

from kafka.errors import KafkaError
from kafka.producer.future import FutureRecordMetadata

from config.kafka import Kafka
from config.signing import WriterRole
from streams.chain import Chain, ChainEnd, Headers, PlacedRecord, now_ms, partition_for
from streams.chain_heads import HEAD_EVERY_RECORDS, HEAD_EVERY_SECONDS, HeadBook
from streams.kafka import producer
from streams.messages import M
from streams.signing import Signer, signer_for
from streams.topics import CHAIN_HEADS, Topic

log = logging.getLogger(__name__)


class Outgoing(NamedTuple):
    """A message to send, and its `to_bytes()` where the sender has it already."""

    topic: Topic[Any]
    message: Any
    value: bytes | None = None


class ChainedProducer:
    """A KafkaProducer whose every record is chained and signed with the key of its writer
    role: the one way quaywatch sends messages.

    Records go to the topic's full name on the site's cluster, under the key the topic
    declares for the message, to the partition the default partitioner picks for it, with a
    timestamp it sets itself; a topic the role may not write is refused before sending. A
    head of its chains goes to `chain-heads` after `head_every_records` acknowledged records,
    `head_every_seconds` after the first one not yet in a head, and at `close`.

    >>> chained = ChainedProducer(site.kafka, WriterRole.correlator)       # doctest: +SKIP
    >>> chained.send(ALERTS, alert).get(timeout=30)
    >>> chained.close()
    """

    def __init__(
        self,
        kafka: Kafka,
        role: WriterRole,
        producer_name: str | None = None,
        signer: Signer | None = None,
        *,
        head_every_records: int = HEAD_EVERY_RECORDS,
        head_every_seconds: float = HEAD_EVERY_SECONDS,
        **producer_settings: object,
    ) -> None:
        self.kafka = kafka
        self.role = role
        self.chain = Chain(producer_name or self.role.value, signer or signer_for(self.role))
        self.heads = HeadBook(head_every_records, head_every_seconds)
        self.producer = producer(kafka, **producer_settings)
        self._partitions: dict[str, int] = {}
        self._heads_topic = kafka.topic(CHAIN_HEADS)
        self._stopping = threading.Event()
        self._send_failed = False  # since the last head: the broker may be away
        self._closed = False
        self._publishing = threading.Thread(
            target=self._publish_heads, name=f"chain-heads-{self.chain.producer_id}", daemon=True
        )
        self._publishing.start()

    def send(self, topic: Topic[M], message: M, value: bytes | None = None) -> FutureRecordMetadata:
        """Send `message`; `value` is its `to_bytes()`, where the caller has it already."""
        return self.send_all([Outgoing(topic, message, value)])[0]

    def send_all(self, outgoing: Sequence[Outgoing]) -> list[FutureRecordMetadata]:
        """Send the messages in this order, chained one after another: all signed first, then
        all handed to the producer. Where a send fails after others of them were handed over,
        the chains start again under a new producer id (their fate is unknown)."""
        records = []
        for topic, message, value in outgoing:
            topic.require_writer(self.role)
            name = self.kafka.topic(topic)
            key = topic.key_of(message).encode()
            records.append(
                PlacedRecord(
                    name,
                    partition_for(key, self._partition_count(name)),
                    now_ms(),
                    key,
                    message.to_bytes() if value is None else value,
                    tuple(message.headers()),
                )
            )
        futures: list[FutureRecordMetadata] = []
        try:
            with self.chain.next_links(records) as links:
                for record, (chain_headers, end) in zip(records, links, strict=True):
                    futures.append(self._send(record, chain_headers, end))
        except Exception:
            if futures:
                self.chain.restart()
            raise
        return futures

    def _send(
        self, record: PlacedRecord, chain_headers: Headers, end: ChainEnd
    ) -> FutureRecordMetadata:
        future = self.producer.send(
            record.topic,
            key=record.key,
            value=record.value,
            headers=[*record.headers, *chain_headers],
            partition=record.partition,
            timestamp_ms=record.timestamp_ms,
        )
        if record.topic != self._heads_topic:  # heads name the data chains, not their own
            # Called on the producer's I/O thread: only bookkeeping, no sending from there.
            future.add_callback(lambda _metadata: self.heads.acknowledged(end))
        future.add_errback(self._failed)
        return future

    def flush(self, timeout: float | None = None) -> None:
        self.producer.flush(timeout)

    def close(self, timeout: float | None = None) -> None:
        """Send what is pending, then a final head of every chain, then close.

        A broker that is away leaves the final head out (logged): the audit then sees the
        chains only as far as the last head that got through.
        """
        if self._closed:
            return
        self._closed = True
        self._stopping.set()
        with self.heads.changed:
            self.heads.changed.notify_all()
        # A head under way when the broker went away may be stuck waiting for metadata.
        self._publishing.join(5.0 if timeout is None else timeout)
        try:
            self.producer.flush(timeout)
            if self._send_failed:
                raise KafkaError("a send failed since the last head; the broker may be away")
            self.publish_head(final=True)
            self.producer.flush(timeout)
        except KafkaError as error:
            log.warning("%s: final chain head not published: %s", self.chain.producer_id, error)
        self.producer.close(timeout=timeout)

    def publish_head(self, final: bool = False) -> FutureRecordMetadata | None:
        """Send the head of every chain now (None: nothing new since the last head)."""
        head = self.heads.take(self.chain.producer_id, final)
        if head is None:
            return None
        self._send_failed = False
        return self.send(CHAIN_HEADS, head)

    def _failed(self, _error: Exception) -> None:
        self._send_failed = True
        self.chain.restart()

    def _publish_heads(self) -> None:
        while not self._stopping.is_set():
            with self.heads.changed:
                wait = self.heads.seconds_until_due()
                if wait is None or wait > 0:
                    self.heads.changed.wait(self.heads.every_seconds if wait is None else wait)
                    continue
            try:
                self.publish_head()
            except KafkaError as error:  # the broker is away: the next head says it all
                log.warning("%s: chain head not published: %s", self.chain.producer_id, error)

    def _partition_count(self, topic: str) -> int:
        if topic not in self._partitions:
            partitions = self.producer.partitions_for(topic)  # waits for metadata, max_block_ms
            self._partitions[topic] = len(partitions)
        return self._partitions[topic]
