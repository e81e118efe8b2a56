"""`audit verify` against someone who can write the topics, or rewrite the broker's storage: a
forgery stamped outside the audited range, a partition's tail cut off, one producer's chain
deleted whole, a fresh chain of the forger's own making; and what it says without a trust
anchor, or over a range that holds nothing. Each is found, located, and exits non-zero.

A night is recorded by real producers and a real correlator on the session broker. An attack
on the storage is emulated the way it would be made: the recorded records (topic, partition,
key, value, headers, timestamp) copied with a plain kafka-python producer onto a broker of the
test's own, minus what the attacker removes; forgeries are written there the same way, by a
client that is not quaywatch's.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from kafka import KafkaProducer

from config.kafka import Kafka
from config.signing import Signing
from quaywatch.cli import main
from streams.audit.records import LoggedRecord
from streams.broker.embedded import EmbeddedBroker
from streams.chain import Chain, ChainLink, PlacedRecord, chained, partition_for
from streams.signing import KEY_ENV, Signer, load_signer
from streams.terminal.events import ContainerActivity as Did
from streams.topics import CHAIN_HEADS, OPERATOR_ACTIONS, TERMINAL
from tests.fixtures.port_story import SELECTED, container_event
from tests.integration.audit_run import NIGHT, RecordedRun, copy_log

pytestmark = pytest.mark.integration

DAY_MS = 24 * 3600 * 1000


def audit(
    run: RecordedRun,
    kafka: Kafka,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    *,
    signing: Signing | None = None,
    shift: timedelta = timedelta(),
) -> tuple[int, str]:
    """`quaywatch audit verify` over the recorded night (moved by `shift`) on `kafka`."""
    site = run.site.model_copy(
        update={"kafka": kafka, "signing": run.site.signing if signing is None else signing}
    )
    config = tmp_path / "site.yaml"
    config.write_text(yaml.safe_dump(site.model_dump(mode="json")))
    window = ["--from", (run.window.start + shift).isoformat()]
    window += ["--to", (run.window.end + shift).isoformat()]
    code = main(["audit", "verify", "--config", str(config), *window])
    return code, capsys.readouterr().out


def verdict_line(out: str) -> str:
    return out.splitlines()[0]


def lines_about(out: str, kind: str) -> list[str]:
    return [line for line in out.splitlines() if f": {kind}: " in line]


def producer_of(record: LoggedRecord) -> ChainLink:
    link = ChainLink.from_headers(record.header_map())
    assert link is not None, record.where
    return link


def busiest_partition(run: RecordedRun, topic_name: str) -> list[LoggedRecord]:
    by_partition: dict[int, list[LoggedRecord]] = {}
    for record in run.log.records[topic_name]:
        by_partition.setdefault(record.partition, []).append(record)
    return max(by_partition.values(), key=len)


def write_foreign(kafka: Kafka, record: PlacedRecord) -> str:
    """Write `record` with a plain kafka-python producer; returns where it landed."""
    client = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    try:
        sent = client.send(
            record.topic,
            key=record.key,
            value=record.value,
            headers=list(record.headers),
            partition=record.partition,
            timestamp_ms=record.timestamp_ms,
        ).get(timeout=10)
    finally:
        client.close()
    return f"{sent.partition}@{sent.offset}"


def faithful_copy(run: RecordedRun, broker: EmbeddedBroker) -> Kafka:
    return copy_log(broker.bootstrap, run.log.all_records(), run.kafka)


def test_the_untouched_copy_is_intact_and_names_range_records_and_snapshots(
    recorded: RecordedRun,
    copy_broker: EmbeddedBroker,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The copying itself must not be what the other tests find.
    code, out = audit(recorded, faithful_copy(recorded, copy_broker), tmp_path, capsys)

    events = recorded.log.size - len(recorded.log.topic(CHAIN_HEADS))
    assert code == 0, out
    assert verdict_line(out).startswith(f"integrity INTACT: range {recorded.window}: ")
    assert f": {events} records in the range ({recorded.log.size} checked" in out
    assert ", 8 snapshots and 8 clips referred to;" in out
    assert len(out.splitlines()) == 1, out


@pytest.mark.parametrize("stamped", ["a day after the range", "a day before the range"])
def test_a_changed_copy_of_a_terminal_record_stamped_outside_the_range_is_found(
    recorded: RecordedRun,
    copy_broker: EmbeddedBroker,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    stamped: str,
) -> None:
    copy = faithful_copy(recorded, copy_broker)
    genuine = busiest_partition(recorded, TERMINAL.name)[0]
    body = json.loads(genuine.value)
    body["activity"] = Did.released.value  # the selected container "released" by customs
    shift = DAY_MS if "after" in stamped else -DAY_MS
    forged = PlacedRecord(
        genuine.kafka_topic,
        genuine.partition,
        genuine.timestamp_ms + shift,
        genuine.key,
        json.dumps(body, sort_keys=True).encode(),
        genuine.headers,  # the genuine record's chain headers and signature, copied
    )
    where = f"terminal/{write_foreign(copy, forged)}"

    code, out = audit(recorded, copy, tmp_path, capsys)

    assert code == 1
    assert verdict_line(out).startswith("integrity BROKEN: ")
    found = [line for line in out.splitlines() if line.startswith(f"BROKEN {where}: ")]
    kinds = {line.split(": ")[1] for line in found}
    assert {"body hash mismatch", "timestamp changed", "signature invalid"} <= kinds, out
    assert all(line.endswith("(outside the audited range)") for line in found), out


def test_an_unchained_record_outside_the_range_is_found(
    recorded: RecordedRun,
    copy_broker: EmbeddedBroker,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    copy = faithful_copy(recorded, copy_broker)
    release = container_event(SELECTED, Did.released, NIGHT + timedelta(seconds=30)).stamped()
    key = release.container_number.encode()
    name = copy.topic(TERMINAL)
    forged = PlacedRecord(
        name,
        partition_for(key, copy.partitions),
        recorded.log.records[TERMINAL.name][-1].timestamp_ms + DAY_MS,
        key,
        release.to_bytes(),
        tuple(release.headers()),
    )
    where = f"terminal/{write_foreign(copy, forged)}"

    code, out = audit(recorded, copy, tmp_path, capsys)

    assert code == 1
    assert lines_about(out, "unchained record") == [
        f"BROKEN {where}: unchained record: no chain headers: not written by a quaywatch "
        "producer (outside the audited range)"
    ]


def test_a_fresh_chain_signed_by_an_unknown_key_is_found_and_unverified_without_keys(
    recorded: RecordedRun,
    copy_broker: EmbeddedBroker,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The forger's own producer id, sequence 0, an all-zero previous hash, correct body
    hashes, a key of their own: every link holds, only the key is nobody's the site trusts."""
    copy = faithful_copy(recorded, copy_broker)
    forger = Chain("terminal", Signer(Ed25519PrivateKey.generate()))
    landed = []
    for seconds, activity in ((30, Did.released), (31, Did.seal_removed)):
        event = container_event(SELECTED, activity, NIGHT + timedelta(seconds=seconds)).stamped()
        key = event.container_number.encode()
        name = copy.topic(TERMINAL)
        record = PlacedRecord(
            name,
            partition_for(key, copy.partitions),
            recorded.log.records[TERMINAL.name][-1].timestamp_ms,
            key,
            event.to_bytes(),
            tuple(event.headers()),
        )
        with forger.next_link(record) as (headers, end):
            where = write_foreign(copy, chained(record, headers))
        landed.append((where, end.sequence))

    code, out = audit(recorded, copy, tmp_path, capsys)

    assert code == 1
    found = lines_about(out, "signature invalid")
    assert [line.split(": ")[0] for line in found] == [
        f"BROKEN terminal/{where}" for where, _ in landed
    ]
    assert [sequence for _, sequence in landed] == [0, 1]
    assert all("which the site does not trust" in line for line in found)
    assert len([line for line in out.splitlines() if line.startswith("BROKEN")]) == 2, out
    # No head its producer could sign names the forged chain, and the audit says what that
    # leaves open.
    [note] = lines_about(out, "chain end without a head")
    assert note.startswith(f"note terminal/{landed[-1][0]}: ") and "seq 0..1" in note

    code, out = audit(recorded, copy, tmp_path, capsys, signing=Signing())

    assert code == 1
    assert verdict_line(out).startswith("integrity UNVERIFIED: ")
    assert "INTACT" not in out and "signatures not checked (no trust anchor given)" in out


def test_a_truncated_tail_is_found_and_the_missing_stretch_named(
    recorded: RecordedRun,
    copy_broker: EmbeddedBroker,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    victim = busiest_partition(recorded, TERMINAL.name)
    kept, cut = victim[:-2], victim[-2:]
    copy = copy_log(
        copy_broker.bootstrap,
        [r for r in recorded.log.all_records() if r not in cut],
        recorded.kafka,
    )
    producer = producer_of(cut[0])
    first, last = producer.sequence, producer_of(cut[-1]).sequence
    assert {producer_of(r).producer_id for r in cut} == {producer.producer_id}

    code, out = audit(recorded, copy, tmp_path, capsys)

    assert code == 1
    [line] = lines_about(out, "truncated chain")
    where = f"terminal/{victim[0].partition}@{len(kept)}"
    assert line.startswith(f"BROKEN {where}: truncated chain: producer {producer.producer_id} ")
    assert f"seq {first}..{last} missing after seq {first - 1} at offset {len(kept) - 1}" in line
    assert verdict_line(out).startswith("integrity BROKEN: ")


def test_a_deleted_producer_chain_is_found_on_every_partition_it_wrote(
    recorded: RecordedRun,
    copy_broker: EmbeddedBroker,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The console's chain: both operator actions of the night, removed from operator-actions.
    actions = recorded.log.records[OPERATOR_ACTIONS.name]
    console = producer_of(actions[0]).producer_id
    removed = [
        r
        for r in recorded.log.all_records()
        if r.topic != CHAIN_HEADS.name and producer_of(r).producer_id == console
    ]
    assert {r.topic for r in removed} == {OPERATOR_ACTIONS.name} and len(removed) == 2
    kept = [r for r in recorded.log.all_records() if r not in removed]
    copy = copy_log(copy_broker.bootstrap, kept, recorded.kafka)

    code, out = audit(recorded, copy, tmp_path, capsys)

    assert code == 1
    expected = []
    for partition in sorted({r.partition for r in removed}):
        left = sum(1 for r in kept if (r.topic, r.partition) == (OPERATOR_ACTIONS.name, partition))
        sequences = sorted(producer_of(r).sequence for r in removed if r.partition == partition)
        stretch = "seq 0" if sequences == [0] else f"seq 0..{sequences[-1]}"
        expected.append(
            f"BROKEN operator-actions/{partition}@{left}: deleted producer chain: producer "
            f"{console} {stretch} missing: none of its {len(sequences)} acknowledged records "
            "on the partition"
        )
    assert [
        line.split("; the chain head")[0] for line in lines_about(out, "deleted producer chain")
    ] == (expected)


def test_verify_without_a_trusted_key_is_unverified(
    recorded: RecordedRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = audit(recorded, recorded.kafka, tmp_path, capsys, signing=Signing())

    assert code == 1
    assert verdict_line(out).startswith(f"integrity UNVERIFIED: range {recorded.window}: ")
    assert "INTACT" not in out


def test_a_missing_or_changed_clip_breaks_the_verdict(
    recorded: RecordedRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The night's data directory copied, so the evidence can be changed for this test alone.
    data_dir = tmp_path / "data"
    shutil.copytree(recorded.site.data_dir, data_dir)
    run = replace(recorded, site=recorded.site.model_copy(update={"data_dir": data_dir}))
    [first, second, *_] = sorted((data_dir / "clips").glob("*.webm"))
    first.unlink()
    video = bytearray(second.read_bytes())
    video[-1] ^= 0xFF
    second.write_bytes(bytes(video))

    code, out = audit(run, recorded.kafka, tmp_path, capsys)

    assert code == 1
    assert verdict_line(out).startswith(f"integrity BROKEN: range {recorded.window}: ")
    assert ", 8 snapshots and 8 clips referred to;" in verdict_line(out)
    assert out.splitlines()[1:] == [
        f"BROKEN {first}: clip missing: referenced, not stored",
        f"BROKEN {second}: clip modified: file hashes to "
        f"{hashlib.sha256(second.read_bytes()).hexdigest()}, not to its name",
    ]


def test_a_range_with_no_records_is_empty_not_intact(
    recorded: RecordedRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = audit(recorded, recorded.kafka, tmp_path, capsys, shift=-timedelta(days=2))

    assert code == 1
    assert verdict_line(out).startswith("integrity EMPTY: range ")
    assert ": no records in the range (" in out and ", 0 snapshots and 0 clips referred to;" in out
    assert "INTACT" not in out


def test_a_bundle_is_unverified_unless_its_key_is_given_or_pinned(
    recorded: RecordedRun,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump(recorded.site.model_dump(mode="json")))
    bundle = tmp_path / "night.zip"
    monkeypatch.setenv(KEY_ENV, str(recorded.key_path))
    window = ["--from", recorded.window.start.isoformat(), "--to", recorded.window.end.isoformat()]
    assert main(["audit", "export", "--config", str(site), *window, "--out", str(bundle)]) == 0
    capsys.readouterr()
    export_key = load_signer(recorded.key_path).key_id
    stranger = Signer(Ed25519PrivateKey.generate()).key_id

    def check(*args: str) -> tuple[int, str]:
        code = main(["audit", "verify-bundle", str(bundle), *args])
        return code, capsys.readouterr().out

    code, out = check()
    assert code == 1 and "integrity UNVERIFIED: " in out and "INTACT" not in out
    code, out = check("--pin", export_key)
    assert code == 0 and "integrity INTACT: " in out, out
    code, out = check("--pin", stranger)
    assert code == 1 and "integrity BROKEN: " in out and "bundle key not pinned" in out
    code, out = check("--public-key", str(recorded.key_path.with_suffix(".pub")))
    assert code == 0 and "integrity INTACT: " in out, out
