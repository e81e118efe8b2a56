"""Integrity verification: the chains on every partition, their heads, the snapshot and clip
files the range refers to, and references.

Chains are checked from the start of each retained partition (a chain cannot be anchored in the
middle), whatever the audited range: a record without a chain, or with one no trusted key
signed, is a finding wherever its timestamp puts it, since nothing authenticates a timestamp
but the chain. The range chooses which records the verdict counts and which snapshots it
checks. A finding either means tampering (or loss) or is a note that explains a limit of the
check, such as a partition whose start was deleted by retention.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from config.signing import WriterRole
from detectors.clips import CLIP_SUFFIX
from streams.audit.heads import check_heads
from streams.audit.records import LoggedRecord, RecordedLog, TimeRange
from streams.audit.verdict import Finding, Integrity, IntegrityVerdict
from streams.chain import GENESIS
from streams.link_check import UnreadableLink, check_link
from streams.signing import KeyRing
from streams.topics import ACCESS, ALERTS, CHAIN_HEADS, OPERATOR_ACTIONS, TOPIC_NAMED

__all__ = ["Finding", "Integrity", "IntegrityVerdict", "verify"]


@dataclass
class _ProducerChain:
    last_sequence: int
    last_hash: str
    hashes: dict[int, str]
    first_offset: int


def check_partition(
    records: list[LoggedRecord],
    keys: KeyRing | None,
    partial: bool,
    writers: frozenset[WriterRole] = frozenset(WriterRole),
) -> list[Finding]:
    """Every chain on one partition; `records` in offset order from the retained start.

    With `keys`, every link must be signed by a trusted key of one of the `writers` roles.
    """
    if not records:
        return []
    findings: list[Finding] = []
    # Offsets start at 0: a first retained record past 0 means retention deleted the start.
    truncated = records[0].offset > 0
    chains: dict[str, _ProducerChain] = {}
    gaps: dict[tuple[str, int], int] = {}  # (producer, missing seq) -> index in findings

    def broken(record: LoggedRecord, kind: str, detail: str, tampering: bool = True) -> None:
        findings.append(Finding(kind, record.where, detail, tampering, record.offset))

    for record in records:
        try:
            checked = check_link(record.placed(), keys, writers)
        except UnreadableLink as unreadable:
            broken(record, unreadable.kind, unreadable.detail)
            continue
        link, link_hash = checked.link, checked.link_hash
        who = f"producer {link.producer_id} seq {link.sequence}"
        for problem in checked.problems:
            broken(record, problem.kind, f"{who}: {problem.detail}")
        chain = chains.get(link.producer_id)
        if chain is None:
            if link.sequence == 0 and link.previous != GENESIS:
                broken(record, "previous-hash mismatch", f"{who}: first link names a predecessor")
            elif link.sequence > 0:
                if truncated or partial:
                    why = (
                        "retention deleted the start"
                        if truncated
                        else "it begins before this export"
                    )
                    broken(
                        record,
                        "retention gap" if truncated else "chain starts before the records",
                        f"{who}: earlier links not retained ({why}); checked from here on",
                        tampering=False,
                    )
                else:
                    broken(
                        record,
                        "unknown producer starts mid-chain",
                        f"{who}: no earlier record of this producer, yet the partition is "
                        "complete from offset 0",
                    )
            chains[link.producer_id] = _ProducerChain(
                link.sequence, link_hash, {link.sequence: link_hash}, record.offset
            )
            continue
        expected = chain.last_sequence + 1
        if link.sequence == expected:
            if link.previous != chain.last_hash:
                broken(
                    record,
                    "previous-hash mismatch",
                    f"{who}: does not follow seq {chain.last_sequence}",
                )
        elif link.sequence > expected:
            missing = list(range(expected, link.sequence))
            broken(
                record,
                "sequence gap",
                f"{who}: seq {_span(missing)} missing before it (deleted, or lost in sending)",
            )
            for sequence in missing:
                gaps[(link.producer_id, sequence)] = len(findings) - 1
        else:
            known = chain.hashes.get(link.sequence)
            if known == link_hash:
                broken(record, "duplicate delivery", f"{who}: delivered again", tampering=False)
                continue
            if known is None and (link.producer_id, link.sequence) in gaps:
                # The "missing" record turns up late: the gap was a reordering.
                gap = findings[gaps.pop((link.producer_id, link.sequence))]
                findings[findings.index(gap)] = Finding(
                    "reordered",
                    gap.where,
                    f"{gap.detail.split(':')[0]}: comes before seq "
                    f"{link.sequence}, which follows at offset {record.offset}",
                    True,
                    gap.offset,
                )
                broken(record, "reordered", f"{who}: arrives after seq {chain.last_sequence}")
            else:
                broken(record, "conflicting record", f"{who}: a different record has this place")
        chain.hashes[link.sequence] = link_hash
        if link.sequence > chain.last_sequence:
            chain.last_sequence, chain.last_hash = link.sequence, link_hash
    return findings


def _span(numbers: list[int]) -> str:
    return str(numbers[0]) if len(numbers) == 1 else f"{numbers[0]}..{numbers[-1]}"


def check_chains(log: RecordedLog, window: TimeRange, keys: KeyRing | None) -> list[Finding]:
    """Every chain of every partition, each finding marked as in the range or not."""
    findings = []
    for name, records in log.records.items():
        by_partition: dict[int, list[LoggedRecord]] = {}
        for record in records:
            by_partition.setdefault(record.partition, []).append(record)
        for partition_records in by_partition.values():
            timestamps = {r.offset: r.timestamp_ms for r in partition_records}
            findings += [
                replace(f, in_range=window.holds(timestamps[f.offset]))
                for f in check_partition(
                    partition_records, keys, log.partial, TOPIC_NAMED[name].writers
                )
            ]
    return findings


def _check_stored(
    what: str, directory: Path, suffix: str, referenced: Iterable[str]
) -> list[Finding]:
    """Every `what` the range refers to is stored in `directory`, under its own SHA-256."""
    findings = []
    for sha256 in sorted(set(referenced)):
        path = directory / f"{sha256}{suffix}"
        if not path.is_file():
            findings.append(Finding(f"{what} missing", str(path), "referenced, not stored"))
            continue
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if actual != sha256:
            findings.append(
                Finding(f"{what} modified", str(path), f"file hashes to {actual}, not to its name")
            )
    return findings


def check_snapshots(snapshot_dir: Path, referenced: Iterable[str]) -> list[Finding]:
    """Every snapshot the range refers to is stored, under its own SHA-256."""
    return _check_stored("snapshot", snapshot_dir, ".jpg", referenced)


def check_clips(clip_dir: Path, referenced: Iterable[str]) -> list[Finding]:
    """Every clip the range's access events name is stored, under its own SHA-256."""
    return _check_stored("clip", clip_dir, CLIP_SUFFIX, referenced)


def referenced_clips(log: RecordedLog, window: TimeRange) -> set[str]:
    """The clips the range's access events name (an incident's clip rides on an update)."""
    return {event.clip_sha256 for _, event in log.messages(ACCESS, window) if event.clip_sha256}


def check_references(log: RecordedLog, window: TimeRange) -> tuple[list[Finding], set[str]]:
    """Alerts rest on recorded access events; actions name recorded alert revisions.

    Returns the findings and the snapshot hashes the range refers to.
    """
    findings: list[Finding] = []
    access_ids: set[str] = set()
    snapshots: set[str] = set()
    for record, event in log.messages(ACCESS):
        access_ids.add(event.event_id)
        if event.snapshot_sha256 and window.holds(record.timestamp_ms):
            snapshots.add(event.snapshot_sha256)
    revisions: set[tuple[str, int]] = set()
    for record, alert in log.messages(ALERTS):
        revisions.add((alert.alert_id, alert.revision))
        if not window.holds(record.timestamp_ms):
            continue
        if alert.snapshot_sha256:
            snapshots.add(alert.snapshot_sha256)
        missing = sorted(set(alert.access_event_ids) - access_ids)
        if missing:
            findings.append(
                Finding(
                    "alert without its access event",
                    record.where,
                    f"{alert.alert_id} r{alert.revision} rests on {', '.join(missing)}, "
                    "which is not on the access topic",
                    offset=record.offset,
                )
            )
    for record, action in log.messages(OPERATOR_ACTIONS, window):
        if (action.alert_id, action.alert_revision) not in revisions:
            findings.append(
                Finding(
                    "action on an unknown alert",
                    record.where,
                    f"{action.operator} {action.action} {action.alert_id} "
                    f"r{action.alert_revision}: no such alert revision was published",
                    offset=record.offset,
                )
            )
    return findings, snapshots


def records_in_range(log: RecordedLog, window: TimeRange) -> int:
    """The records a range holds; chain heads vouch for records, they are not what happened."""
    return sum(
        1
        for record in log.all_records()
        if record.topic != CHAIN_HEADS.name and window.holds(record.timestamp_ms)
    )


def verify(
    log: RecordedLog,
    window: TimeRange,
    snapshot_dir: Path | None,
    keys: KeyRing | None,
    clip_dir: Path | None = None,
) -> IntegrityVerdict:
    """The verdict on `log` over `window`; `keys` are the trust anchor (none, or an empty
    ring: nothing is signed by anyone known, so the verdict is UNVERIFIED at best). Files are
    checked in the directories given: snapshots in `snapshot_dir`, clips in `clip_dir`."""
    anchor = keys if keys else None
    findings = check_chains(log, window, anchor)
    if not log.partial:
        findings += check_heads(log, anchor)
    reference_findings, snapshots = check_references(log, window)
    findings += reference_findings
    if snapshot_dir is not None:
        findings += check_snapshots(snapshot_dir, snapshots)
    clips = referenced_clips(log, window)
    if clip_dir is not None:
        findings += check_clips(clip_dir, clips)
    findings.sort(key=lambda f: (not f.tampering, f.where.split("@")[0], f.offset))
    return IntegrityVerdict(
        findings=findings,
        window=window,
        records_in_range=records_in_range(log, window),
        records_checked=log.size,
        snapshots_referenced=len(snapshots),
        clips_referenced=len(clips),
        signatures=anchor.describe() if anchor else "not checked (no trust anchor given)",
        anchored=anchor is not None,
    )
