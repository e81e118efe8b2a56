"""Hands events to Kafka through an on-disk spool, so that a broker outage or a crash loses none.

Every event is first appended to the spool (fsync'd) and `publish` returns; one background
thread sends the spool to Kafka in order and removes a record only after Kafka acknowledged it
(acks=all). The spool is therefore a write-ahead log rather than an overflow for bad times:

- order per key holds without a hand-over between a "direct" and a "spooled" path, because
  there is only one path and it is in order;
- an event in the producer's memory when the process dies is still on disk, and a new
  Publisher on the same directory sends it;
- the price is one fsync per event, which access events (a few per track) can afford.

When the broker is away (not there at start, connection lost, metadata or delivery timing
out) the thread keeps retrying with a back-off while the spool grows up to its bound. A full
spool refuses the newest event (`SpoolFull`, counted in `counters.refused`, logged as an
error) and never drops an older one: the evidence already kept is what an investigation
needs. Delivery is at-least-once; a redelivered event is byte-for-byte the same, event id
included, so consumers dedupe by id. In the usual outage the producer's own retries (one
idempotent producer session) deliver each record once.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from kafka import KafkaProducer
from kafka.errors import KafkaError, KafkaTimeoutError

from config.kafka import Kafka
from config.signing import WriterRole
from streams.chain import Chain, ChainLink, PlacedRecord, chain_end, now_ms, partition_for
from streams.chain_heads import HeadBook
from streams.kafka import SPOOLING_PRODUCER_TIMEOUTS, producer
from streams.messages import M
from streams.signing import signer_for
from streams.spool import Pending, Spool, SpoolError
from streams.spool_format import SpoolRecord
from streams.topics import CHAIN_HEADS, Topic

log = logging.getLogger(__name__)


class PublisherClosed(RuntimeError):
    """publish() was called after close()."""


@dataclass(frozen=True)
class PublisherCounters:
    """Totals since the publisher started, for metrics."""

    accepted: int = 0  # events publish() took into the spool
    delivered: int = 0  # events Kafka acknowledged and the spool let go
    send_errors: int = 0  # records whose send failed; they stay in the spool and are retried
    connect_errors: int = 0  # failed attempts to create the Kafka producer
    refused: int = 0  # events not kept: the spool was full or its disk failed


class Publisher:
    """Publish messages to Kafka without losing one when the broker is away.

    >>> publisher = Publisher(site.kafka, data_dir / "spool", site.spool.max_bytes,
    ...                       client_id="worker-rtm")                       # doctest: +SKIP
    >>> publisher.publish(ACCESS, event)
    >>> publisher.flush(timeout_s=10)
    True
    >>> publisher.close()
    """

    def __init__(
        self,
        kafka: Kafka,
        spool_dir: Path,
        max_spool_bytes: int,
        client_id: str,
        *,
        role: WriterRole = WriterRole.camera,
        batch_size: int = 500,
        retry_backoff_s: float = 1.0,
        producer_settings: Mapping[str, object] | None = None,
    ) -> None:
        self._kafka = kafka
        self._producer_settings = {**SPOOLING_PRODUCER_TIMEOUTS, **(producer_settings or {})}
        self._client_id = client_id
        self._batch_size = batch_size
        self._retry_backoff_s = retry_backoff_s
        self._spool = Spool(spool_dir, max_spool_bytes)
        self._role = role
        self._chain = Chain(client_id, signer_for(role))
        self._heads = HeadBook()  # where the chains stand, published on chain-heads
        self._heads_topic = kafka.topic(CHAIN_HEADS)
        self._counters = PublisherCounters()
        self._changed = threading.Condition()  # spool grew or shrank, or closing began
        self._closing = threading.Event()
        self._close_deadline = float("inf")  # sends already under way may finish until then
        self._producer: KafkaProducer | None = None
        self._producer_lock = threading.Lock()
        self._broker_down_since: float | None = None
        if self._spool.depth:
            log.info(
                "spool %s: %d events left from before, sending them first",
                spool_dir,
                self.spool_depth,
            )
        self._thread = threading.Thread(
            target=self._deliver_forever, name=f"publisher-{client_id}", daemon=True
        )
        self._thread.start()

    # -- public interface -------------------------------------------------------------------

    @property
    def spool_depth(self) -> int:
        """Events accepted and not yet acknowledged by Kafka."""
        return self._spool.depth

    @property
    def counters(self) -> PublisherCounters:
        return self._counters

    def publish(self, topic: Topic[M], message: M) -> None:
        """Queue `message` for `topic`, under the key the topic declares, durably.

        Stamps published_at unless the message already has one. Returns once the event is on
        disk; raises SpoolFull when the spool is at its bound (the event is not kept).
        """
        if self._closing.is_set():
            raise PublisherClosed(f"publisher {self._client_id}: publish after close")
        topic.require_writer(self._role)
        if message.published_at is None:
            message = message.stamped()
        try:
            self._append(topic, message)
        except SpoolError as error:  # full, or the disk failed
            self._count(refused=1)
            log.error("event %s NOT KEPT: %s", message.event_id, error)
            raise
        with self._changed:
            self._counters = replace(self._counters, accepted=self._counters.accepted + 1)
            self._changed.notify_all()

    def _append(self, topic: Topic[M], message: M) -> None:
        key = topic.key_of(message).encode()
        # Chained when appended, not when sent: the headers (partition and timestamp among
        # them) are kept in the spool, so a record sent again after a crash is the same
        # record, and the chain survives the restart. The partition comes from the
        # configured count, as the broker may be away right now.
        record = PlacedRecord(
            self._kafka.topic(topic),
            partition_for(key, self._kafka.partitions),
            now_ms(),
            key,
            message.to_bytes(),
            tuple(message.headers()),
        )
        with self._chain.next_link(record) as (chain_headers, _):
            spooled = SpoolRecord(
                record.topic, key.decode(), record.value, (*record.headers, *chain_headers)
            )
            self._spool.append(spooled)

    def flush(self, timeout_s: float) -> bool:
        """Wait until Kafka has acknowledged every accepted event; False if time ran out."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while self._spool.depth:
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    return False
                self._changed.wait(min(left, 0.5))
        return True

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop sending. Events not yet acknowledged stay in the spool for the next Publisher.

        A batch already handed to Kafka gets up to `timeout_s` to be acknowledged, so that a
        record Kafka has is not left in the spool to be sent again by the next Publisher.
        """
        self._publish_head(final=True, wait_s=timeout_s)
        self._close_deadline = time.monotonic() + timeout_s
        self._closing.set()
        with self._changed:
            self._changed.notify_all()
        self._thread.join(timeout_s)
        self._close_producer(timeout_s)
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.error(
                "publisher %s: sender thread did not stop in %.0f s", self._client_id, timeout_s
            )
        else:
            self._spool.close()
        if self._spool.depth:
            log.warning(
                "publisher %s: closed with %d events in the spool; they go out on next start",
                self._client_id,
                self.spool_depth,
            )

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the sender thread ------------------------------------------------------------------

    def _deliver_forever(self) -> None:
        while not self._closing.is_set():
            try:
                self._deliver_once()
            except Exception:
                # A bug or a disk error must not end delivery for good: the spool keeps the
                # events, so log it and try again.
                log.exception("publisher %s: delivering the spool failed", self._client_id)
                self._closing.wait(self._retry_backoff_s)

    def _deliver_once(self) -> None:
        """Send the oldest batch of the spool, or wait for one."""
        if self._heads.seconds_until_due() == 0:
            self._publish_head()
        batch = self._spool.peek(self._batch_size)
        if not batch:
            with self._changed:
                if not self._spool.depth and not self._closing.is_set():
                    self._changed.wait(1.0)
            return
        kafka_producer = self._producer or self._connect()
        if kafka_producer is None:
            self._closing.wait(self._retry_backoff_s)
            return
        delivered = self._send(kafka_producer, batch)
        events = [p for p in delivered if p.record.topic != self._heads_topic]
        for placed in filter(None, (placed_record(p.record) for p in events)):
            self._heads.acknowledged(chain_end(placed))  # type: ignore[arg-type]
        if delivered:
            self._spool.ack(delivered[-1])
            self._count(delivered=len(events))
            self._broker_back()
            with self._changed:
                self._changed.notify_all()
        if len(delivered) < len(batch) and not self._closing.is_set():
            # Start over with a new producer: the old one's session may be stale after the
            # broker restarted, and its unsent batches were aborted so none is sent twice.
            self._close_producer(0)
            self._closing.wait(self._retry_backoff_s)

    def _connect(self) -> KafkaProducer | None:
        try:
            created = producer(self._kafka, client_id=self._client_id, **self._producer_settings)
        except KafkaError as error:
            self._count(connect_errors=1)
            self._broker_gone(
                f"cannot connect to {', '.join(self._kafka.bootstrap_servers)}: {error!r}"
            )
            return None
        with self._producer_lock:
            if self._closing.is_set():
                created.close(0)
                return None
            self._producer = created
        return created

    def _send(self, kafka_producer: KafkaProducer, batch: list[Pending]) -> list[Pending]:
        """Send a batch in order; return the leading records Kafka acknowledged."""
        sent = []
        for pending in batch:
            record, placed = pending.record, placed_record(pending.record)
            try:
                future = kafka_producer.send(
                    record.topic,
                    key=record.key.encode(),
                    value=record.value,
                    headers=list(record.headers),
                    partition=placed.partition if placed else None,
                    timestamp_ms=placed.timestamp_ms if placed else None,
                )
            except (KafkaError, AssertionError) as error:  # closed under us when closing
                self._count(send_errors=len(batch) - len(sent))
                self._broker_gone(f"send to {record.topic} failed: {error!r}")
                break
            sent.append((pending, future))
        delivered: list[Pending] = []
        for pending, future in sent:
            error = self._wait(future)
            if error is not None:
                self._count(send_errors=len(sent) - len(delivered))
                self._broker_gone(f"delivery to {pending.record.topic} failed: {error!r}")
                break
            delivered.append(pending)
        return delivered

    def _wait(self, future: object) -> Exception | None:
        """The error a send future ended with (None on success); gives up when closing."""
        while True:
            try:
                future.get(timeout=0.5)  # type: ignore[attr-defined]
                return None
            except KafkaTimeoutError as error:
                if future.is_done:  # type: ignore[attr-defined]
                    return error  # the batch itself expired
                if self._closing.is_set() and time.monotonic() > self._close_deadline:
                    return error
            except Exception as error:  # noqa: BLE001 - any failure leaves the record spooled
                return error

    def _close_producer(self, timeout_s: float) -> None:
        with self._producer_lock:
            kafka_producer, self._producer = self._producer, None
        if kafka_producer is None:
            return
        try:
            kafka_producer.close(timeout=timeout_s)
        except KafkaTimeoutError:
            # close() flushes first and gives up with this error when batches are still
            # waiting, leaving its sender thread running; abort those batches (they are still
            # in the spool) so the old producer cannot deliver them behind the new one's back.
            sender = kafka_producer._sender
            sender.force_close()
            sender.join(5)
            with contextlib.suppress(KafkaError):
                kafka_producer.close(timeout=0)

    # -- chain heads ------------------------------------------------------------------------

    def _publish_head(self, final: bool = False, wait_s: float = 0.0) -> None:
        """Spool a head of every chain (heads name the event chains, not their own). The final
        one, at close, only when every event is delivered, with `wait_s` to go out: events
        left in the spool are the next Publisher's, and so are the heads that name them."""
        if final and self._spool.depth:
            return
        head = self._heads.take(self._chain.producer_id, final)
        if head is None:
            return
        try:
            self._append(CHAIN_HEADS, head)
        except SpoolError as error:
            log.warning("publisher %s: chain head not kept: %s", self._client_id, error)
            return
        with self._changed:
            self._changed.notify_all()
        if wait_s:
            self.flush(wait_s)

    # -- bookkeeping ------------------------------------------------------------------------

    def _count(self, **increments: int) -> None:
        with self._changed:
            self._counters = replace(
                self._counters,
                **{name: getattr(self._counters, name) + n for name, n in increments.items()},
            )

    def _broker_gone(self, reason: str) -> None:
        # One warning per outage, not one per retry: the counters carry the rate.
        if self._broker_down_since is None:
            self._broker_down_since = time.monotonic()
            log.warning(
                "publisher %s: %s; spooling to %s (%d events waiting)",
                self._client_id,
                reason,
                self._spool.directory,
                self.spool_depth,
            )

    def _broker_back(self) -> None:
        if self._broker_down_since is not None:
            log.warning(
                "publisher %s: Kafka reachable again after %.0f s, %d events still spooled",
                self._client_id,
                time.monotonic() - self._broker_down_since,
                self.spool_depth,
            )
            self._broker_down_since = None


def placed_record(record: SpoolRecord) -> PlacedRecord | None:
    """The spooled record as its chain link placed it: the partition and timestamp it was
    chained for (None: spooled before records were chained)."""
    link = ChainLink.from_headers(dict(record.headers))
    if link is None:
        return None
    return PlacedRecord(
        record.topic,
        link.partition,
        link.timestamp_ms,
        record.key.encode(),
        record.value,
        record.headers,
    )
