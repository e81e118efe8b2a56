"""Chain headers: a producer's records link up per partition, and the link covers the record as
Kafka keeps it: topic, partition, key, timestamp, headers and body."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from kafka.partitioner.default import DefaultPartitioner

from streams.chain import (
    GENESIS,
    Chain,
    ChainEnd,
    ChainLink,
    PlacedRecord,
    link_bytes,
    partition_for,
)
from streams.chain_heads import ChainState, HeadBook
from streams.signing import Signer, is_valid


class Cluster:
    """Just enough cluster metadata for kafka-python's DefaultPartitioner."""

    def __init__(self, partitions: int) -> None:
        self.count = partitions

    def topics(self) -> set[str]:
        return {"quaywatch.access"}

    def partitions_for_topic(self, topic: str) -> set[int]:
        return set(range(self.count))

    def available_partitions_for_topic(self, topic: str) -> set[int]:
        return set(range(self.count))


@pytest.mark.parametrize("partitions", [1, 3, 7])
def test_partition_is_the_one_kafka_pythons_default_partitioner_picks(partitions: int) -> None:
    partitioner = DefaultPartitioner()
    for zone in ("quay-north", "gate-3", "alert-0a1b2c", "MSCU1234565", ""):
        key = zone.encode()
        expected = partitioner.partition(
            "quaywatch.access", zone, key, None, None, Cluster(partitions)
        )
        assert partition_for(key, partitions) == expected


def link_of(headers: list[tuple[str, bytes]]) -> ChainLink:
    link = ChainLink.from_headers(dict(headers))
    assert link is not None
    return link


def placed(
    value: bytes, partition: int = 0, key: bytes = b"k", timestamp_ms: int = 1_000
) -> PlacedRecord:
    return PlacedRecord("t", partition, timestamp_ms, key, value, (("schema", b"s/1"),))


def chained_link(chain: Chain, record: PlacedRecord) -> ChainLink:
    with chain.next_link(record) as (headers, _):
        return link_of(headers)


def test_links_follow_each_other_per_partition() -> None:
    chain = Chain("worker-test", signer=None)
    records = [placed(f"body-{n}".encode()) for n in range(3)]
    links = [chained_link(chain, record) for record in records]
    other = chained_link(chain, placed(b"elsewhere", partition=1))

    assert [link.sequence for link in links] == [0, 1, 2]
    assert links[0].previous == GENESIS
    assert links[1].previous == links[0].link_hash(records[0])
    assert links[2].previous == links[1].link_hash(records[1])
    assert (other.sequence, other.previous) == (0, GENESIS)


def test_a_failed_append_does_not_move_the_chain() -> None:
    chain = Chain("worker-test", signer=None)
    with pytest.raises(OSError), chain.next_link(placed(b"lost")) as _:
        raise OSError("disk full")
    assert chained_link(chain, placed(b"kept")).sequence == 0


def test_links_made_together_are_the_links_made_one_at_a_time() -> None:
    signer = Signer(Ed25519PrivateKey.generate())  # Ed25519 signatures are deterministic
    records = [placed(f"body-{n}".encode(), partition=n % 2) for n in range(5)]
    alone, together = Chain("worker-test", signer), Chain("worker-test", signer)
    together.producer_id = alone.producer_id
    one_at_a_time = [chained_link(alone, record) for record in records]
    with together.next_links(records) as links:
        made_together = [link_of(headers) for headers, _ in links]

    assert made_together == one_at_a_time
    assert chained_link(together, records[0]) == chained_link(alone, records[0])


def test_a_failed_batch_does_not_move_the_chain() -> None:
    chain = Chain("worker-test", signer=None)
    with pytest.raises(OSError), chain.next_links([placed(b"a"), placed(b"b")]) as _:
        raise OSError("broker away")
    assert chained_link(chain, placed(b"kept")).sequence == 0


def test_the_link_says_the_partition_and_timestamp_it_was_chained_with() -> None:
    link = chained_link(Chain("worker-test", signer=None), placed(b"{}", 2, timestamp_ms=1234))

    assert (link.partition, link.timestamp_ms) == (2, 1234)


def test_link_hash_covers_topic_partition_key_timestamp_headers_and_body() -> None:
    record = placed(b"{}")
    link = chained_link(Chain("worker-test", signer=None), record)
    changed = [
        replace(record, topic="u"),
        replace(record, partition=1),
        replace(record, key=b"other"),
        replace(record, key=None),
        replace(record, timestamp_ms=record.timestamp_ms + 1),
        replace(record, headers=(("schema", b"s/2"),)),
        replace(record, headers=(*record.headers, ("extra", b""))),
        replace(record, value=b"{ }"),
    ]

    hashes = {link.link_hash(each) for each in changed}
    assert len(hashes) == len(changed) and link.link_hash(record) not in hashes


def test_link_hash_leaves_out_the_chain_headers_themselves() -> None:
    record = placed(b"{}")
    chain = Chain("worker-test", signer=Signer(Ed25519PrivateKey.generate()))
    with chain.next_link(record) as (headers, end):
        sent = replace(record, headers=(*record.headers, *headers))

    assert link_of(headers).link_hash(sent) == end.link_hash == link_of(headers).link_hash(record)


def test_link_bytes_cannot_be_shifted_between_fields() -> None:
    # Length prefixes: moving a byte from the key into the topic changes the bytes.
    one = link_bytes("p", 0, GENESIS, replace(placed(b"{}"), topic="ab", key=b"c"))
    other = link_bytes("p", 0, GENESIS, replace(placed(b"{}"), topic="a", key=b"bc"))
    assert one != other


def test_signed_links_verify_with_the_public_key() -> None:
    signer = Signer(Ed25519PrivateKey.generate())
    record = placed(b"{}", 2, key=b"alert-1")
    link = chained_link(Chain("console-test", signer=signer), record)
    assert link.signature is not None
    assert is_valid(signer.public_key, link.signature, link.link_hash(record).encode())
    other = replace(record, key=b"alert-2")
    assert not is_valid(signer.public_key, link.signature, link.link_hash(other).encode())


def test_the_book_says_when_a_head_is_due() -> None:
    now = [100.0]
    book = HeadBook(every_records=3, every_seconds=10, clock=lambda: now[0])
    assert book.seconds_until_due() is None and book.take("p") is None

    def acknowledge(sequence: int) -> None:
        book.acknowledged(ChainEnd("p", "t", 0, sequence, str(sequence) * 64))

    acknowledge(0)
    now[0] += 4
    assert book.seconds_until_due() == 6
    acknowledge(1)
    acknowledge(2)
    assert book.seconds_until_due() == 0
    head = book.take("p")
    assert head is not None and [c.sequence for c in head.chains] == [2]
    assert book.seconds_until_due() is None
    acknowledge(3)
    now[0] += 10
    assert book.seconds_until_due() == 0
    assert book.take("p", final=True).chains == [
        ChainState(producer_id="p", topic="t", partition=0, sequence=3, link_hash="3" * 64, count=4)
    ]
