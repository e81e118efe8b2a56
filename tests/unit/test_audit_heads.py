"""Chain heads against a partition, record by record: what a head vouches for, and whose heads
count."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from config.signing import WriterRole
from streams.audit.heads import check_heads
from streams.audit.records import LoggedRecord, RecordedLog
from streams.chain import Chain, ChainEnd, PlacedRecord, chained
from streams.chain_heads import HeadBook
from streams.messages import Message
from streams.signing import KeyRing, Signer
from streams.topics import ALERTS, CHAIN_HEADS, Topic
from tests.fixtures.port_story import STORY_START, access_event

PREFIX = "site."
CORRELATOR = Signer(Ed25519PrivateKey.generate())
CAMERA = Signer(Ed25519PrivateKey.generate())
KEYS = KeyRing(
    [(WriterRole.correlator, CORRELATOR.public_key), (WriterRole.camera, CAMERA.public_key)]
)


class Partitions:
    """Records as one producer writes them, with offsets per partition."""

    def __init__(self) -> None:
        self.records: list[LoggedRecord] = []

    def write(self, chain: Chain, topic: Topic, message: Message, partition: int = 0) -> ChainEnd:
        name = f"{PREFIX}{topic.name}"
        record = PlacedRecord(
            name,
            partition,
            1000 + len(self.records),
            b"k",
            message.to_bytes(),
            tuple(message.headers()),
        )
        with chain.next_link(record) as (headers, end):
            sent = chained(record, headers)
        offset = sum(1 for r in self.records if (r.topic, r.partition) == (topic.name, partition))
        self.records.append(
            LoggedRecord(
                topic.name,
                partition,
                offset,
                sent.timestamp_ms,
                sent.key,
                sent.value,
                sent.headers,
                name,
            )
        )
        return end


def any_message(n: int) -> Message:
    # Any message will do on the chains: the heads check never reads the bodies of data records.
    return access_event("zone-B0", STORY_START, f"p{n}", ["B0"]).stamped()


def night(head_signer: Signer = CORRELATOR) -> tuple[Partitions, list[ChainEnd], Chain]:
    correlator = Chain("correlator", CORRELATOR)
    written = Partitions()
    ends = [written.write(correlator, ALERTS, any_message(n)) for n in range(4)]
    book = HeadBook()
    for end in ends:
        book.acknowledged(end)
    head = book.take(correlator.producer_id, final=True)
    publisher = Chain("correlator", head_signer)
    written.write(publisher, CHAIN_HEADS, head)
    return written, ends, correlator


def test_a_chain_that_holds_up_to_its_head_is_fine() -> None:
    written, _, _ = night()

    assert check_heads(RecordedLog.of(written.records), KEYS) == []


def test_records_cut_off_after_the_head_are_named() -> None:
    written, ends, correlator = night()
    kept = [r for r in written.records if not (r.topic == ALERTS.name and r.offset >= 2)]

    [finding] = check_heads(RecordedLog.of(kept), KEYS)

    assert (finding.kind, finding.where) == ("truncated chain", "alerts/0@2")
    assert f"producer {correlator.producer_id} seq 2..3 missing after seq 1" in finding.detail


def test_a_head_signed_by_a_role_that_may_not_write_the_topic_counts_for_nothing() -> None:
    # A camera key cannot vouch for (or against) the correlator's alerts.
    written, _, _ = night(head_signer=CAMERA)
    kept = [r for r in written.records if not (r.topic == ALERTS.name and r.offset >= 2)]

    findings = check_heads(RecordedLog.of(kept), KEYS)

    assert [f.kind for f in findings] == [
        "chain head from the wrong role",
        "chain end without a head",
    ]
    assert findings[0].where == "chain-heads/0@0" and not findings[1].tampering


def test_a_head_under_an_untrusted_key_counts_for_nothing() -> None:
    written, _, _ = night(head_signer=Signer(Ed25519PrivateKey.generate()))
    kept = [r for r in written.records if not (r.topic == ALERTS.name and r.offset >= 2)]

    [note] = check_heads(RecordedLog.of(kept), KEYS)

    assert (note.kind, note.where, note.tampering) == (
        "chain end without a head",
        "alerts/0@1",
        False,
    )
