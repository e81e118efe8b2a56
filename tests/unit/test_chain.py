"""Chain headers: a producer's records link up per partition, and the link covers key and body."""

from __future__ import annotations

import pytest
from kafka.partitioner.default import DefaultPartitioner

from streams.chain import GENESIS, Chain, ChainLink, partition_for
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


def test_links_follow_each_other_per_partition() -> None:
    chain = Chain("worker-test", signer=None)
    chain.signer = None
    links = []
    for n in range(3):
        with chain.next_link("t", 0, b"k", f"body-{n}".encode()) as headers:
            links.append(link_of(headers))
    with chain.next_link("t", 1, b"k", b"elsewhere") as headers:
        other = link_of(headers)

    assert [link.sequence for link in links] == [0, 1, 2]
    assert links[0].previous == GENESIS
    assert links[1].previous == links[0].link_hash(b"k")
    assert links[2].previous == links[1].link_hash(b"k")
    assert (other.sequence, other.previous) == (0, GENESIS)


def test_a_failed_append_does_not_move_the_chain() -> None:
    chain = Chain("worker-test", signer=None)
    chain.signer = None
    with pytest.raises(OSError), chain.next_link("t", 0, b"k", b"lost") as _:
        raise OSError("disk full")
    with chain.next_link("t", 0, b"k", b"kept") as headers:
        assert link_of(headers).sequence == 0


def test_link_hash_covers_the_key() -> None:
    chain = Chain("worker-test", signer=None)
    chain.signer = None
    with chain.next_link("t", 0, b"quay-north", b"{}") as headers:
        link = link_of(headers)
    assert link.link_hash(b"quay-north") != link.link_hash(b"quay-south")


def test_signed_links_verify_with_the_public_key() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    signer = Signer(Ed25519PrivateKey.generate())
    chain = Chain("console-test", signer=signer)
    with chain.next_link("t", 2, b"alert-1", b"{}") as headers:
        link = link_of(headers)
    assert link.signature is not None
    assert is_valid(signer.public_key, link.signature, link.link_hash(b"alert-1").encode())
    assert not is_valid(signer.public_key, link.signature, link.link_hash(b"alert-2").encode())
