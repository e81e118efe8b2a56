"""The integrity chain every published message carries, and the producer wrapper that adds it.

Each producer instance has its own id and keeps one chain per (topic, partition). A message's
headers carry the producer id, its sequence number in that chain, the partition and the
timestamp it was chained for, the SHA-256 of its body (the canonical JSON `Message.to_bytes`
gives) and the link hash of the message before it. The link hash of a record covers all of
that and everything else Kafka keeps of it: its topic (full name), partition, timestamp, key,
body and its other headers (`link_bytes`, the one encoding producers and checkers share). It
is signed with the key of the producer's writer role, whose id travels with it (so keys can be
rotated).
So a changed body, key, header or timestamp, a deleted, reordered or inserted message, or a
message moved to another partition or topic breaks a link an auditor can find, and a consumer
can tell whose record it is. Topics must keep the producer's timestamps (Kafka's default
`message.timestamp.type=CreateTime`): a broker that stamps its own breaks every link.

Chaining needs the partition and the timestamp before sending, so the producer computes the
partition with kafka-python's default partitioner (murmur2 of the key, over the partition
count in the topic's metadata), picks the timestamp itself, and sends with both set: the
records of a key land where the default partitioner would have put them.
"""

from __future__ import annotations

import hashlib
import struct
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

from kafka.consumer.fetcher import ConsumerRecord
from kafka.partitioner.default import murmur2

from streams.signing import Signer

PRODUCER_HEADER = "qw-producer"
SEQUENCE_HEADER = "qw-seq"
PARTITION_HEADER = "qw-partition"
TIMESTAMP_HEADER = "qw-timestamp"
BODY_HEADER = "qw-body-sha256"
PREVIOUS_HEADER = "qw-prev"
SIGNATURE_HEADER = "qw-signature"
KEY_ID_HEADER = "qw-key-id"
CHAIN_HEADERS = (
    PRODUCER_HEADER,
    SEQUENCE_HEADER,
    PARTITION_HEADER,
    TIMESTAMP_HEADER,
    BODY_HEADER,
    PREVIOUS_HEADER,
)
# The headers a link is made of, or signed with: every other header is covered as it is.
LINK_HEADERS = frozenset((*CHAIN_HEADERS, SIGNATURE_HEADER, KEY_ID_HEADER))
# The "previous hash" of the first message of a chain.
GENESIS = "0" * 64
# Names the encoding of `link_bytes`, so a later one cannot be mistaken for it.
LINK_FORMAT = b"quaywatch-link/2"

Headers = list[tuple[str, bytes]]


def partition_for(key: bytes, partitions: int) -> int:
    """The partition kafka-python's DefaultPartitioner picks for a keyed record."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def body_sha256(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()


def now_ms() -> int:
    """A record timestamp: milliseconds since the epoch, as Kafka keeps it."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class PlacedRecord:
    """A record as Kafka keeps it (or will): what its link hash covers. `topic` is the full
    name on the cluster; `headers` may include the chain's own, which the link leaves out."""

    topic: str
    partition: int
    timestamp_ms: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()

    @classmethod
    def of(cls, record: ConsumerRecord) -> PlacedRecord:
        """A record as a consumer reads it (header values of None read as empty)."""
        return cls(
            topic=record.topic,
            partition=record.partition,
            timestamp_ms=record.timestamp,
            key=record.key,
            value=record.value or b"",
            headers=consumed_headers(record.headers),
        )

    def covered_headers(self) -> list[tuple[str, bytes]]:
        """The headers the link covers as they are: all but the chain's and the signature's."""
        return [(name, value) for name, value in self.headers if name not in LINK_HEADERS]


def consumed_headers(
    headers: Sequence[tuple[str, bytes | None]] | None,
) -> tuple[tuple[str, bytes], ...]:
    """A consumed record's headers as a tuple, values of None read as empty (kafka-python
    gives (name, value) tuples: kept as they are unless a value is None)."""
    kept = tuple(headers or ())
    for _, value in kept:
        if value is None:
            return tuple((name, value or b"") for name, value in kept)
    return kept  # type: ignore[return-value]  # no value is None


def _field(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def link_bytes(
    producer_id: str,
    sequence: int,
    previous: str,
    record: PlacedRecord,
    body_hash: str | None = None,
) -> bytes:
    """The canonical bytes a link hash is the SHA-256 of: the producer's place in its chain
    and the record as Kafka keeps it. The one encoding producers, consumers and the audit use;
    `body_hash` is `body_sha256(record.value)`, where the caller has it already.

    Every field is length-prefixed, so no two different records encode alike.
    """
    fields = [
        LINK_FORMAT,
        producer_id.encode(),
        str(sequence).encode(),
        previous.encode(),
        record.topic.encode(),
        str(record.partition).encode(),
        str(record.timestamp_ms).encode(),
        b"-" if record.key is None else b"k" + record.key,
        (body_sha256(record.value) if body_hash is None else body_hash).encode(),
    ]
    covered = record.covered_headers()
    fields.append(str(len(covered)).encode())
    for name, value in covered:
        fields += [name.encode(), value]
    return b"".join(_field(part) for part in fields)


@dataclass(frozen=True)
class ChainLink:
    """What the chain headers of one record say."""

    producer_id: str
    sequence: int
    partition: int
    timestamp_ms: int
    body_sha256: str
    previous: str
    signature: bytes | None = None
    key_id: str | None = None

    def link_hash(self, record: PlacedRecord, body_hash: str | None = None) -> str:
        """The hash the next message of this chain names as its previous one (`body_hash`:
        as for `link_bytes`)."""
        return hashlib.sha256(
            link_bytes(self.producer_id, self.sequence, self.previous, record, body_hash)
        ).hexdigest()

    def headers(self) -> Headers:
        headers = [
            (PRODUCER_HEADER, self.producer_id.encode()),
            (SEQUENCE_HEADER, str(self.sequence).encode()),
            (PARTITION_HEADER, str(self.partition).encode()),
            (TIMESTAMP_HEADER, str(self.timestamp_ms).encode()),
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
            timestamp_ms=int(headers[TIMESTAMP_HEADER]),
            body_sha256=headers[BODY_HEADER].decode(),
            previous=headers[PREVIOUS_HEADER].decode(),
            signature=headers.get(SIGNATURE_HEADER),
            key_id=headers[KEY_ID_HEADER].decode() if KEY_ID_HEADER in headers else None,
        )


@dataclass(frozen=True)
class ChainEnd:
    """Where one chain stands: its last record's sequence number and link hash."""

    producer_id: str
    topic: str
    partition: int
    sequence: int
    link_hash: str


# A record's chain headers, and where its chain ends with it.
ChainedAs = tuple[Headers, ChainEnd]


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
    def next_link(self, record: PlacedRecord) -> Iterator[ChainedAs]:
        """Chain headers for the next record, and where its chain then ends; the chain moves
        on only if the block succeeds. `record` is the record to send, with its own headers,
        partition and timestamp as they will be sent.

        The lock is held across the block so that the caller's append or send happens in
        chain order even when threads publish at once.
        """
        with self.next_links([record]) as links:
            yield links[0]

    @contextmanager
    def next_links(self, records: Sequence[PlacedRecord]) -> Iterator[list[ChainedAs]]:
        """`next_link` of records to be sent in this order, each linked to the one before it
        on its chain: all of them signed before the block sends any. Signing releases the
        interpreter lock, and a producer's I/O thread woken by a send would hold on to it
        between signatures."""
        with self._lock:
            heads = dict(self._heads)
            links = []
            for record in records:
                where = (record.topic, record.partition)
                sequence, previous = heads.get(where, (-1, GENESIS))
                headers, end = self._link(record, sequence + 1, previous)
                heads[where] = (end.sequence, end.link_hash)
                links.append((headers, end))
            yield links
            self._heads = heads

    def _link(self, record: PlacedRecord, sequence: int, previous: str) -> ChainedAs:
        body_hash = body_sha256(record.value)
        link = ChainLink(
            self.producer_id, sequence, record.partition, record.timestamp_ms, body_hash, previous
        )
        link_hash = link.link_hash(record, body_hash)
        if self.signer is not None:
            link = replace(
                link, signature=self.signer.sign(link_hash.encode()), key_id=self.signer.key_id
            )
        end = ChainEnd(self.producer_id, record.topic, record.partition, sequence, link_hash)
        return link.headers(), end

    def restart(self) -> None:
        """Begin new chains under a new producer id, after a send whose fate is unknown.

        The old chains simply end; continuing them would leave a gap that reads like a
        deleted message.
        """
        with self._lock:
            self._heads.clear()
            self.producer_id = self._new_id()


def chained(record: PlacedRecord, chain_headers: Sequence[tuple[str, bytes]]) -> PlacedRecord:
    """`record` with its chain headers after its own, as it is sent."""
    return replace(record, headers=(*record.headers, *chain_headers))


def chain_end(record: PlacedRecord) -> ChainEnd | None:
    """Where `record`'s chain ends with it, from its own headers (None: it carries no link)."""
    link = ChainLink.from_headers(dict(record.headers))
    if link is None:
        return None
    return ChainEnd(
        link.producer_id, record.topic, link.partition, link.sequence, link.link_hash(record)
    )


def __getattr__(name: str) -> object:
    # The producer that chains every record it sends lives beside the chain heads it
    # publishes; senders find it here, imported when first asked for (it needs the topics,
    # which need this module's neighbours first).
    if name == "ChainedProducer":
        from streams.chained_producer import ChainedProducer

        return ChainedProducer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
