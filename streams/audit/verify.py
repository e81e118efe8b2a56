"""Integrity verification: the chains on every partition, the snapshot files, and references.

Chains are checked from the start of each retained partition (a chain cannot be anchored in the
middle), and findings are reported for records up to the end of the audited range. A finding
either means tampering (or loss) or is a note that explains a limit of the check, such as a
partition whose start was deleted by retention.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from config.signing import WriterRole
from streams.audit.records import LoggedRecord, RecordedLog, TimeRange
from streams.chain import GENESIS, ChainLink, body_sha256
from streams.signing import KeyRing
from streams.topics import ACCESS, ALERTS, OPERATOR_ACTIONS, TOPIC_NAMED


@dataclass(frozen=True)
class Finding:
    """One thing wrong (or worth noting) and where: topic, partition, offset, or a file."""

    kind: str
    where: str
    detail: str
    tampering: bool = True
    offset: int = -1

    def render(self) -> str:
        label = "BROKEN" if self.tampering else "note"
        return f"{label} {self.where}: {self.kind}: {self.detail}"


@dataclass
class IntegrityVerdict:
    """What `audit verify` found: the findings, what it checked, and whether it is INTACT."""

    findings: list[Finding] = field(default_factory=list)
    records_checked: int = 0
    snapshots_checked: int = 0
    signatures: str = "not checked (no public key given)"

    @property
    def broken(self) -> list[Finding]:
        return [f for f in self.findings if f.tampering]

    @property
    def notes(self) -> list[Finding]:
        return [f for f in self.findings if not f.tampering]

    @property
    def clean(self) -> bool:
        return not self.broken

    def render(self) -> str:
        head = (
            f"integrity {'INTACT' if self.clean else 'BROKEN'}: {self.records_checked} records, "
            f"{self.snapshots_checked} snapshots checked; signatures {self.signatures}"
        )
        return "\n".join(
            [head, *(f.render() for f in self.broken), *(f.render() for f in self.notes)]
        )


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
            link = ChainLink.from_headers(record.header_map())
        except ValueError as error:
            broken(record, "malformed chain headers", str(error))
            continue
        if link is None:
            broken(record, "unchained record", "no producer, sequence or hash headers")
            continue
        key = record.key or b""
        link_hash = link.link_hash(key)
        who = f"producer {link.producer_id} seq {link.sequence}"
        if body_sha256(record.value) != link.body_sha256:
            broken(record, "body hash mismatch", f"{who}: the body is not the one it was sent with")
        if link.partition != record.partition:
            broken(record, "wrong partition", f"{who}: chained for partition {link.partition}")
        if keys is not None:
            problem = keys.signature_problem(
                link.key_id, link.signature, link_hash.encode(), writers
            )
            if problem is not None:
                kind = "signature missing" if link.signature is None else "signature invalid"
                broken(record, kind, f"{who}: {problem}")
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
    findings = []
    for name, records in log.records.items():
        by_partition: dict[int, list[LoggedRecord]] = {}
        for record in records:
            by_partition.setdefault(record.partition, []).append(record)
        for partition_records in by_partition.values():
            last = window.end.timestamp() * 1000
            findings += [
                f
                for f in check_partition(
                    partition_records, keys, log.partial, TOPIC_NAMED[name].writers
                )
                if _timestamp_of(partition_records, f.offset) <= last
            ]
    return findings


def _timestamp_of(records: list[LoggedRecord], offset: int) -> int:
    return next(r.timestamp_ms for r in records if r.offset == offset)


def check_snapshots(snapshot_dir: Path, referenced: Iterable[str]) -> tuple[list[Finding], int]:
    """Each stored snapshot is named by its own SHA-256, and every referenced one is there."""
    findings = []
    checked = 0
    stored = sorted(snapshot_dir.glob("*.jpg")) if snapshot_dir.is_dir() else []
    for path in stored:
        checked += 1
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if actual != path.stem:
            findings.append(
                Finding("snapshot modified", str(path), f"file hashes to {actual}, not to its name")
            )
    names = {path.stem for path in stored}
    for sha256 in sorted(set(referenced) - names):
        findings.append(
            Finding(
                "snapshot missing", str(snapshot_dir / f"{sha256}.jpg"), "referenced, not stored"
            )
        )
    return findings, checked


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


def verify(
    log: RecordedLog,
    window: TimeRange,
    snapshot_dir: Path | None,
    keys: KeyRing | None,
) -> IntegrityVerdict:
    findings = check_chains(log, window, keys)
    reference_findings, snapshots = check_references(log, window)
    findings += reference_findings
    snapshot_count = 0
    if snapshot_dir is not None:
        snapshot_findings, snapshot_count = check_snapshots(snapshot_dir, snapshots)
        findings += snapshot_findings
    findings.sort(key=lambda f: (not f.tampering, f.where.split("@")[0], f.offset))
    return IntegrityVerdict(
        findings=findings,
        records_checked=log.size,
        snapshots_checked=snapshot_count,
        signatures="not checked (no public key given)" if keys is None else keys.describe(),
    )
