"""A batch of records checked together: a run of one chain's links is signed for by its last
signature, and whatever is changed, forged or missing inside a run is still found, record by
record, while its untouched neighbours pass."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from kafka.consumer.fetcher import ConsumerRecord

from streams import signing
from streams.chain import SIGNATURE_HEADER, Chain, PlacedRecord, body_sha256
from streams.record_check import RecordRejected
from streams.signing import Signer
from streams.topics import ACCESS
from tests.unit.test_record_check import CAMERA, CHECK, TIMESTAMP, body

RUN = 20


def chained(chain: Chain, count: int, first_offset: int = 0) -> list[ConsumerRecord]:
    """`count` access events as one producer chains them, one after another, on partition 0."""
    records = []
    for number in range(count):
        value = body(incident_id=f"person-{first_offset + number}")
        placed = PlacedRecord(
            ACCESS.name, 0, TIMESTAMP, b"zone-B0", value, (("schema", b"access-event/1"),)
        )
        with chain.next_link(placed) as (headers, _):
            sent = [*placed.headers, *headers]
        records.append(
            ConsumerRecord(
                ACCESS.name, 0, None, first_offset + number, TIMESTAMP, 0, b"zone-B0", value,
                sent, None, 7, len(value), -1,
            )
        )  # fmt: skip
    return records


def outcome(records: list[ConsumerRecord]) -> list[str]:
    """'ok' or the rejection's reason, per record."""
    return [
        checked.reason if isinstance(checked, RecordRejected) else "ok"
        for checked in CHECK.messages(ACCESS, records)
    ]


@pytest.fixture
def verified(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many Ed25519 verifications the check made (the real ones, counted)."""
    calls: list[int] = []
    real = signing.is_valid

    def counted(key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
        calls.append(1)
        return real(key, signature, data)

    monkeypatch.setattr(signing, "is_valid", counted)
    return calls


def test_a_run_of_one_chain_is_verified_by_its_last_signature(verified: list[int]) -> None:
    assert outcome(chained(Chain("camera-test", CAMERA), RUN)) == ["ok"] * RUN
    assert len(verified) == 1


def test_two_producers_interleaved_are_two_runs(verified: list[int]) -> None:
    first, second = chained(Chain("cam-1", CAMERA), 5), chained(Chain("cam-2", CAMERA), 5, 5)
    interleaved = [record for pair in zip(first, second, strict=True) for record in pair]
    assert outcome(interleaved) == ["ok"] * 10
    assert len(verified) == 2


def test_a_body_changed_inside_a_run_is_rejected_and_its_neighbours_pass() -> None:
    records = chained(Chain("camera-test", CAMERA), RUN)
    changed = body(incident_id="someone-else")
    # The body and its hash header changed together: the link hash no longer follows.
    headers = [
        (name, value) if name != "qw-body-sha256" else (name, body_sha256(changed).encode())
        for name, value in records[7].headers
    ]
    records[7] = records[7]._replace(value=changed, headers=headers)
    got = outcome(records)
    assert got[7].startswith("signature: signature does not verify")
    assert got[:7] + got[8:] == ["ok"] * (RUN - 1)


def test_a_record_forged_into_a_run_is_rejected_and_its_neighbours_pass() -> None:
    records = chained(Chain("camera-test", CAMERA), RUN)
    forger = Signer(Ed25519PrivateKey.generate())
    forged = chained(Chain("camera-test", forger), 1, 100)[0]
    records.insert(10, forged)
    got = outcome(records)
    assert got[10].endswith("which the site does not trust")
    assert got[:10] + got[11:] == ["ok"] * RUN


def test_when_a_runs_last_signature_fails_every_link_of_it_is_verified_on_its_own(
    verified: list[int],
) -> None:
    records = chained(Chain("camera-test", CAMERA), RUN)
    last = records[-1]
    broken = bytes(64)
    records[-1] = last._replace(
        headers=[(n, broken if n == SIGNATURE_HEADER else v) for n, v in last.headers]
    )
    got = outcome(records)
    assert got[-1].startswith("signature: signature does not verify")
    assert got[:-1] == ["ok"] * (RUN - 1)
    assert len(verified) == RUN


def test_an_unsigned_link_inside_a_run_is_still_rejected() -> None:
    records = chained(Chain("camera-test", CAMERA), RUN)
    middle = records[5]
    records[5] = middle._replace(
        headers=[(n, v) for n, v in middle.headers if n != SIGNATURE_HEADER]
    )
    got = outcome(records)
    assert got[5] == "signature: not signed"
    assert got[:5] + got[6:] == ["ok"] * (RUN - 1)
