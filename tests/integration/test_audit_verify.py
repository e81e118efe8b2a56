"""`audit verify` finds and locates every kind of tampering, and passes an untouched log.

Tansu's storage cannot be edited in place (nor can a real Kafka log, short of rewriting its
segment files), so each tampered log is built by copying the recorded one, record by record
with its topic, partition, key, value, headers and timestamp, onto a broker of the test's own
with the change applied, and `audit verify` then reads that broker like any other.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from config.kafka import Kafka
from streams.audit.records import LoggedRecord, read_log
from streams.audit.verify import IntegrityVerdict, verify
from streams.broker.embedded import EmbeddedBroker
from streams.chain import Chain, ChainLink, PlacedRecord, body_sha256
from streams.correlator.engine import alert_id_for
from streams.signing import KeyRing, Signer
from streams.topics import ACCESS, ALERTS, CHAIN_HEADS, OPERATOR_ACTIONS, TERMINAL, Topic
from tests.fixtures.port_story import false_alarm_close
from tests.integration.audit_run import NIGHT, RecordedRun, copy_log, minutes

pytestmark = pytest.mark.integration

Tamper = Callable[[list[LoggedRecord]], list[LoggedRecord]]


def verified(
    run: RecordedRun, kafka: Kafka, snapshot_dir: Path | None = None, clip_dir: Path | None = None
) -> IntegrityVerdict:
    keys = KeyRing.from_config(run.site.signing)
    return verify(
        read_log(kafka),
        run.window,
        snapshot_dir or run.snapshot_dir,
        keys,
        clip_dir=clip_dir or run.clip_dir,
    )


def partition_of(run: RecordedRun, topic: Topic[Any], least: int = 3) -> list[LoggedRecord]:
    """The records of the busiest partition of a topic (at least `least` of them)."""
    by_partition: dict[int, list[LoggedRecord]] = {}
    for record in run.log.topic(topic):
        by_partition.setdefault(record.partition, []).append(record)
    busiest = max(by_partition.values(), key=len)
    assert len(busiest) >= least
    return busiest


def tampered(run: RecordedRun, broker: EmbeddedBroker, topic: Topic[Any], change: Tamper) -> Kafka:
    target = partition_of(run, topic)
    records = [
        record
        for record in run.log.all_records()
        if (record.topic, record.partition) != (topic.name, target[0].partition)
    ]
    return copy_log(broker.bootstrap, records + change(list(target)), run.kafka)


def first_broken(verdict: IntegrityVerdict) -> tuple[str, str]:
    assert not verdict.clean, verdict.render()
    return verdict.broken[0].kind, verdict.broken[0].where


def test_an_untouched_log_verifies_clean(recorded: RecordedRun) -> None:
    verdict = verified(recorded, recorded.kafka)

    assert verdict.clean, verdict.render()
    assert verdict.records_checked == recorded.log.size
    assert verdict.records_in_range == recorded.log.size - len(recorded.log.topic(CHAIN_HEADS))
    assert verdict.snapshots_referenced == 8
    assert verdict.clips_referenced == 8
    assert "checked against key" in verdict.signatures


def test_an_untouched_copy_verifies_clean(
    recorded: RecordedRun, copy_broker: EmbeddedBroker
) -> None:
    # The copying itself must not be what the other tests detect.
    copy = tampered(recorded, copy_broker, ACCESS, lambda records: records)
    assert verified(recorded, copy).clean


def test_a_modified_alert_body_is_found_at_its_offset(
    recorded: RecordedRun, copy_broker: EmbeddedBroker
) -> None:
    def downgrade(records: list[LoggedRecord]) -> list[LoggedRecord]:
        body = json.loads(records[1].value)
        body["severity"] = "suppressed" if body["severity"] != "suppressed" else "medium"
        records[1] = _with_value(records[1], json.dumps(body, sort_keys=True).encode())
        return records

    copy = tampered(recorded, copy_broker, ALERTS, downgrade)
    target = partition_of(recorded, ALERTS)

    assert first_broken(verified(recorded, copy)) == (
        "body hash mismatch",
        f"alerts/{target[0].partition}@1",
    )


def test_a_deleted_access_event_is_found_as_a_sequence_gap(
    recorded: RecordedRun, copy_broker: EmbeddedBroker
) -> None:
    copy = tampered(recorded, copy_broker, ACCESS, lambda records: records[:1] + records[2:])
    target = partition_of(recorded, ACCESS)
    verdict = verified(recorded, copy)

    assert first_broken(verdict) == ("sequence gap", f"access/{target[0].partition}@1")
    assert "seq 1 missing" in verdict.broken[0].detail


def test_a_reordered_pair_of_terminal_events_is_found(
    recorded: RecordedRun, copy_broker: EmbeddedBroker
) -> None:
    def swap(records: list[LoggedRecord]) -> list[LoggedRecord]:
        records[1], records[2] = records[2], records[1]
        return records

    copy = tampered(recorded, copy_broker, TERMINAL, swap)
    target = partition_of(recorded, TERMINAL)
    verdict = verified(recorded, copy)

    assert first_broken(verdict) == ("reordered", f"terminal/{target[0].partition}@1")
    assert [f.kind for f in verdict.broken] == ["reordered", "reordered"]


def test_an_inserted_forged_access_event_is_found_where_it_was_put(
    recorded: RecordedRun, copy_broker: EmbeddedBroker
) -> None:
    def insert(records: list[LoggedRecord]) -> list[LoggedRecord]:
        # The forger copies the worker's chain headers and links the forgery in correctly;
        # only the site's key is out of reach.
        genuine = records[1]
        link = ChainLink.from_headers(genuine.header_map())
        body = json.loads(genuine.value)
        body["event_id"] += "-forged"
        value = json.dumps(body, sort_keys=True).encode()
        headers = ChainLink(
            link.producer_id,
            link.sequence,
            link.partition,
            link.timestamp_ms,
            body_sha256(value),
            link.previous,
        ).headers()
        forged = replace(
            genuine, offset=0, value=value, headers=(("schema", b"access-event/1"), *headers)
        )
        return [records[0], forged, *records[1:]]

    copy = tampered(recorded, copy_broker, ACCESS, insert)
    target = partition_of(recorded, ACCESS)

    assert first_broken(verified(recorded, copy)) == (
        "signature missing",
        f"access/{target[0].partition}@1",
    )


def test_a_modified_snapshot_file_is_found(recorded: RecordedRun, tmp_path: Path) -> None:
    snapshots = tmp_path / "snapshots"
    shutil.copytree(recorded.snapshot_dir, snapshots)
    victim = sorted(snapshots.glob("*.jpg"))[2]
    victim.write_bytes(victim.read_bytes()[:-10] + b"0123456789")

    verdict = verified(recorded, recorded.kafka, snapshots)

    assert first_broken(verdict) == ("snapshot modified", str(victim))


def test_a_missing_clip_and_a_clip_with_a_changed_byte_are_found(
    recorded: RecordedRun, tmp_path: Path
) -> None:
    clips = tmp_path / "clips"
    shutil.copytree(recorded.clip_dir, clips)
    stored = sorted(clips.glob("*.webm"))
    assert len(stored) == 8
    missing, changed = stored[1], stored[5]
    missing.unlink()
    video = bytearray(changed.read_bytes())
    video[len(video) // 2] ^= 0x01
    changed.write_bytes(bytes(video))

    verdict = verified(recorded, recorded.kafka, clip_dir=clips)

    assert not verdict.clean and verdict.integrity.value == "BROKEN"
    changed_hash = hashlib.sha256(changed.read_bytes()).hexdigest()
    assert [(f.kind, f.where, f.detail) for f in verdict.findings] == sorted(
        [
            ("clip missing", str(missing), "referenced, not stored"),
            ("clip modified", str(changed), f"file hashes to {changed_hash}, not to its name"),
        ],
        key=lambda finding: finding[1],
    )
    assert verdict.clips_referenced == 8


def test_a_forged_operator_action_is_found(
    recorded: RecordedRun, copy_broker: EmbeddedBroker
) -> None:
    """An acknowledgement nobody gave, on a real alert, from a console chain of the forger's
    own making, signed with a key that is not the site's."""
    forger = Chain("console", signer=Signer(Ed25519PrivateKey.generate()))
    action = false_alarm_close(
        alert_id_for("selected"), "action-forged", NIGHT + minutes(2)
    ).stamped()
    genuine = recorded.log.topic(OPERATOR_ACTIONS)[0]
    key, value = action.alert_id.encode(), action.to_bytes()
    placed = PlacedRecord(
        genuine.kafka_topic,
        genuine.partition,
        genuine.timestamp_ms + 1,
        key,
        value,
        tuple(action.headers()),
    )
    with forger.next_link(placed) as (headers, _):
        forged = replace(
            genuine,
            offset=0,
            timestamp_ms=placed.timestamp_ms,
            key=key,
            value=value,
            headers=(*placed.headers, *headers),
        )
    copy = copy_log(copy_broker.bootstrap, [*recorded.log.all_records(), forged], recorded.kafka)
    forged_offset = sum(
        1 for r in recorded.log.topic(OPERATOR_ACTIONS) if r.partition == genuine.partition
    )

    assert first_broken(verified(recorded, copy)) == (
        "signature invalid",
        f"operator-actions/{genuine.partition}@{forged_offset}",
    )


def _with_value(record: LoggedRecord, value: bytes) -> LoggedRecord:
    return replace(record, value=value)
