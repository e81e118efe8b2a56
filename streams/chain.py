"""The integrity chain every published message carries, and the producer wrapper that adds it.

Each producer instance has its own id and keeps one chain per (topic, partition). A message's
headers carry the producer id, its sequence number in that chain, the partition it was chained
for, the SHA-256 of its body (the canonical JSON `Message.to_bytes` gives) and the link hash of
the message before it; the link hash of a message covers all of those and its key. The link
hash is signed with the key of the producer's writer role, and the key's id travels with it
(so keys can be rotated).
So a changed body, a deleted, reordered or inserted message, or a message moved to another
partition breaks a link an auditor can find, and a consumer can tell whose record it is.

Chaining per partition needs the partition before sending, so the producer computes it with
kafka-python's default partitioner (murmur2 of the key) and sends with `partition=` set: the
records of a key land where the default partitioner would have put them.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from kafka.partitioner.default import murmur2
from kafka.producer.future import FutureRecordMetadata

from config.kafka import Kafka
from config.signing import WriterRole
from streams.kafka import producer
from streams.messages import M
from streams.signing import Signer, signer_for
from streams.topics import Topic

PRODUCER_HEADER = "qw-producer"
SEQUENCE_HEADER = "qw-seq"
PARTITION_HEADER = "qw-partition"
BODY_HEADER = "qw-body-sha256"
PREVIOUS_HEADER = "qw-prev"
SIGNATURE_HEADER = "qw-signature"
KEY_ID_HEADER = "qw-key-id"
CHAIN_HEADERS = (PRODUCER_HEADER, SEQUENCE_HEADER, PARTITION_HEADER, BODY_HEADER, PREVIOUS_HEADER)
# The "previous hash" of the first message of a chain.
GENESIS = "0" * 64

Headers = list[tuple[str, bytes]]


def partition_for(key: bytes, partitions: int) -> int:
    """The partition kafka-python's DefaultPartitioner picks for a keyed record."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def body_sha256(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()


@dataclass(frozen=True)
class ChainLink:
    """What the chain headers of one record say."""

    producer_id: str
    sequence: int
    partition: int
    body_sha256: str
    previous: str
    signature: bytes | None = None
    key_id: str | None = None

    def link_hash(self, key: bytes) -> str:
        """The hash the next message of this chain names as its previous one."""
        text = "\n".join(
            (
                self.producer_id,
                str(self.partition),
                str(self.sequence),
                key.hex(),
                self.body_sha256,
                self.previous,
            )
        )
        return hashlib.sha256(text.encode()).hexdigest()

    def headers(self) -> Headers:
        headers = [
            (PRODUCER_HEADER, self.producer_id.encode()),
            (SEQUENCE_HEADER, str(self.sequence).encode()),
            (PARTITION_HEADER, str(self.partition).encode()),
            (BODY_HEADER, self.body_sha256.encode()),
            (PREVIOUS_HEADER, self.previous.encode()),
        ]
        if self.signature is not None:
            headers.append((SIGNATURE_HEADER, self.signature))
        if self.key_id is not None:
            headers.append((KEY_ID_HEADER, self.key_id.encode()))
        return headers

    @classmethod
    def from_headers(cls, headers: dict[str, bytes]) -> ChainLink | None:
        """The link a record's headers describe; None when it carries no chain headers at all.

        Raises ValueError when the headers are there but malformed.
        """
        if not any(name in headers for name in CHAIN_HEADERS):
            return None
        missing = [name for name in CHAIN_HEADERS if name not in headers]
        if missing:
            raise ValueError(f"chain headers missing: {', '.join(missing)}")
        return cls(
            producer_id=headers[PRODUCER_HEADER].decode(),
            sequence=int(headers[SEQUENCE_HEADER]),
            partition=int(headers[PARTITION_HEADER]),
            body_sha256=headers[BODY_HEADER].decode(),
            previous=headers[PREVIOUS_HEADER].decode(),
            signature=headers.get(SIGNATURE_HEADER),
            key_id=headers[KEY_ID_HEADER].decode() if KEY_ID_HEADER in headers else None,
        )


class Chain:
    """One producer instance's chains, one per (topic, partition); safe across threads.

    Without a signer the links are unsigned, and every consumer rejects them.
    """

    def __init__(self, producer_name: str, signer: Signer | None) -> None:
        self.producer_name = producer_name
        self.signer = signer
        self._lock = threading.Lock()
        self._heads: dict[tuple[str, int], tuple[int, str]] = {}  # -> (last seq, link hash)
        self.producer_id = self._new_id()

    def _new_id(self) -> str:
        return f"{self.producer_name}-{uuid.uuid4().hex[:16]}"

    @contextmanager
    def next_link(self, topic: str, partition: int, key: bytes, value: bytes) -> Iterator[Headers]:
        """Chain headers for the next record; the chain moves on only if the block succeeds.

        The lock is held across the block so that the caller's append or send happens in
        chain order even when threads publish at once.
        """
        with self._lock:
            sequence, previous = self._heads.get((topic, partition), (-1, GENESIS))
            link = ChainLink(
                self.producer_id, sequence + 1, partition, body_sha256(value), previous
            )
            link_hash = link.link_hash(key)
            if self.signer is not None:
                link = replace(
                    link,
                    signature=self.signer.sign(link_hash.encode()),
                    key_id=self.signer.key_id,
                )
            yield link.headers()
            self._heads[(topic, partition)] = (link.sequence, link_hash)

    def restart(self) -> None:
        """Begin new chains under a new producer id, after a send whose fate is unknown.

        The old chains simply end; continuing them would leave a gap that reads like a
        deleted message.
        """
        with self._lock:
            self._heads.clear()
            self.producer_id = self._new_id()


class ChainedProducer:
    """A KafkaProducer whose every record is chained and signed with the key of its writer
    role: the one way quaywatch sends messages.

    Records go to the topic's full name on the site's cluster, under the key the topic
    declares for the message; a topic the role may not write is refused before sending.

    >>> chained = ChainedProducer(site.kafka, WriterRole.correlator)       # doctest: +SKIP
    >>> chained.send(ALERTS, alert).get(timeout=30)
    """

    def __init__(
        self,
        kafka: Kafka,
        role: WriterRole,
        producer_name: str | None = None,
        signer: Signer | None = None,
        **producer_settings: object,
    ) -> None:
        self.kafka = kafka
        self.role = role
        self.chain = Chain(producer_name or self.role.value, signer or signer_for(self.role))
        self.producer = producer(kafka, **producer_settings)
        self._partitions: dict[str, int] = {}

    def send(self, topic: Topic[M], message: M) -> FutureRecordMetadata:
        topic.require_writer(self.role)
        name, value = self.kafka.topic(topic), message.to_bytes()
        key = topic.key_of(message).encode()
        partition = partition_for(key, self._partition_count(name))
        with self.chain.next_link(name, partition, key, value) as chain_headers:
            future = self.producer.send(
                name,
                key=key,
                value=value,
                headers=message.headers() + chain_headers,
                partition=partition,
            )
        future.add_errback(lambda _error: self.chain.restart())
        return future

    def flush(self, timeout: float | None = None) -> None:
        self.producer.flush(timeout)

    def close(self, timeout: float | None = None) -> None:
        self.producer.close(timeout=timeout)

    def _partition_count(self, topic: str) -> int:
        if topic not in self._partitions:
            partitions = self.producer.partitions_for(topic)  # waits for metadata, max_block_ms
            self._partitions[topic] = len(partitions)
        return self._partitions[topic]
