"""The check every consumer makes of a record before acting on it, record by record."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from kafka.consumer.fetcher import ConsumerRecord

from config.signing import WriterRole
from streams.chain import Chain, PlacedRecord
from streams.record_check import RecordCheck, RecordRejected
from streams.signing import KeyRing, Signer
from streams.topics import ACCESS, ALERTS, Topic
from tests.fixtures.port_story import STORY_START, access_event

CAMERA = Signer(Ed25519PrivateKey.generate())
CORRELATOR = Signer(Ed25519PrivateKey.generate())
CHECK = RecordCheck(
    KeyRing(
        [(WriterRole.camera, CAMERA.public_key), (WriterRole.correlator, CORRELATOR.public_key)]
    )
)


def record(
    topic: Topic,
    value: bytes,
    signer: Signer | None = CAMERA,
    partition: int = 0,
    schema: bytes = b"access-event/1",
    key: bytes = b"zone-B0",
) -> ConsumerRecord:
    """A record as a producer with `signer` chains it for `partition` of `topic`."""
    placed = PlacedRecord(topic.name, partition, TIMESTAMP, key, value, (("schema", schema),))
    with Chain("camera-test", signer).next_link(placed) as (headers, _):
        chained = [*placed.headers, *headers]
    return ConsumerRecord(
        topic.name,
        partition,
        None,
        7,
        TIMESTAMP,
        0,
        key,
        value,
        chained,
        None,
        len(key),
        len(value),
        -1,
    )


TIMESTAMP = 1_773_450_000_000


def body(**changes: object) -> bytes:
    event = access_event("zone-B0", STORY_START, "person", ["B0"]).stamped()
    return json.dumps({**event.model_dump(mode="json"), **changes}, sort_keys=True).encode()


def rejection(received: ConsumerRecord, topic: Topic = ACCESS) -> str:
    with pytest.raises(RecordRejected) as rejected:
        CHECK.message(topic, received)
    return rejected.value.reason


def test_a_record_signed_by_its_topics_writer_is_its_message() -> None:
    event = CHECK.message(ACCESS, record(ACCESS, body()))

    assert event.zone_id == "zone-B0" and event.incident_id == "person"


def test_a_record_without_chain_headers_is_rejected() -> None:
    plain = record(ACCESS, body())
    unchained = plain._replace(headers=[("schema", b"access-event/1")])

    assert rejection(unchained).startswith("no chain headers")


def test_a_changed_body_no_longer_matches_its_hash() -> None:
    genuine = record(ACCESS, body())

    assert "body hash mismatch" in rejection(genuine._replace(value=body(zone_id="zone-B1")))


def test_a_record_moved_to_another_partition_is_rejected() -> None:
    assert "chained for partition 0" in rejection(record(ACCESS, body())._replace(partition=2))


def test_an_unsigned_chain_is_rejected() -> None:
    assert rejection(record(ACCESS, body(), signer=None)) == "signature: not signed"


def test_a_key_the_site_does_not_trust_is_rejected() -> None:
    stranger = Signer(Ed25519PrivateKey.generate())

    assert "does not trust" in rejection(record(ACCESS, body(), signer=stranger))


def test_a_trusted_key_of_another_role_does_not_make_an_alert() -> None:
    reason = rejection(record(ALERTS, body(), signer=CAMERA, schema=b"alert/1"), ALERTS)

    assert "of the camera role; only correlator may write" in reason


def test_a_swapped_key_id_fails_the_signature() -> None:
    genuine = record(ACCESS, body())
    headers = [
        (name, CORRELATOR.key_id.encode() if name == "qw-key-id" else value)
        for name, value in genuine.headers
    ]

    assert "of the correlator role" in rejection(genuine._replace(headers=headers))


def test_the_schema_header_must_name_the_topics_message_type() -> None:
    assert "expected 'access-event/1'" in rejection(record(ACCESS, body(), schema=b"alert/1"))


def test_a_signed_body_must_still_match_its_json_schema() -> None:
    reason = rejection(record(ACCESS, body(score=7)))

    assert reason.startswith("body fails access-event/1 at $.score")


def test_the_body_must_carry_the_topics_schema_version() -> None:
    reason = rejection(record(ACCESS, body(schema_version=2)))

    assert "schema" in reason and "access-event/1" in reason


def test_a_header_given_twice_is_rejected() -> None:
    genuine = record(ACCESS, body())
    doubled = genuine._replace(headers=[*genuine.headers, ("qw-signature", b"x" * 64)])

    assert "appears more than once" in rejection(doubled)


def test_a_changed_timestamp_breaks_the_link() -> None:
    genuine = record(ACCESS, body())

    assert "timestamp changed" in rejection(genuine._replace(timestamp=TIMESTAMP - 3_600_000))


def test_a_record_copied_to_another_topic_fails_its_signature() -> None:
    # Same partition, key, body and headers: only the topic differs, and the link covers it.
    genuine = record(ACCESS, body())

    assert "signature does not verify" in rejection(genuine._replace(topic="other.access"))


def test_a_header_added_after_signing_fails_the_signature() -> None:
    genuine = record(ACCESS, body())
    added = genuine._replace(headers=[*genuine.headers, ("traceparent", b"00-forged")])

    assert "signature does not verify" in rejection(added)


def test_a_changed_key_fails_the_signature() -> None:
    genuine = record(ACCESS, body())

    assert "signature does not verify" in rejection(genuine._replace(key=b"zone-B1"))
