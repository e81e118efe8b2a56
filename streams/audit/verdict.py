"""What an integrity check found, and the one line that says whether it is INTACT.

INTACT needs all three: no finding of tampering, a trust anchor (the writer roles' public keys
a site trusts, an export key given or pinned) so that signatures were checked, and at least
one record in the range. Otherwise the verdict says BROKEN, UNVERIFIED or EMPTY, and the
commands exit non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from streams.audit.records import TimeRange


class Integrity(StrEnum):
    intact = "INTACT"
    broken = "BROKEN"  # a finding of tampering, or of loss
    unverified = "UNVERIFIED"  # no trust anchor: anyone could have made these chains
    empty = "EMPTY"  # nothing in the range to vouch for


@dataclass(frozen=True)
class Finding:
    """One thing wrong (or worth noting) and where: topic, partition, offset, or a file.

    `in_range` is False for a record outside the audited range: still a finding, as the range
    only chooses what a report lists, and a forger chooses the timestamps.
    """

    kind: str
    where: str
    detail: str
    tampering: bool = True
    offset: int = -1
    in_range: bool = True

    def render(self) -> str:
        label = "BROKEN" if self.tampering else "note"
        outside = "" if self.in_range else " (outside the audited range)"
        return f"{label} {self.where}: {self.kind}: {self.detail}{outside}"


@dataclass
class IntegrityVerdict:
    """What `audit verify` found, over which range, what it checked, and what that makes it."""

    findings: list[Finding] = field(default_factory=list)
    window: TimeRange | None = None
    records_in_range: int = 0
    records_checked: int = 0  # every record read, from each partition's start
    snapshots_referenced: int = 0  # the snapshots the range's records refer to
    clips_referenced: int = 0  # the clips the range's access events name
    signatures: str = "not checked (no trust anchor given)"
    anchored: bool = False  # signatures were checked against keys given from outside

    @property
    def broken(self) -> list[Finding]:
        return [f for f in self.findings if f.tampering]

    @property
    def notes(self) -> list[Finding]:
        return [f for f in self.findings if not f.tampering]

    @property
    def integrity(self) -> Integrity:
        if self.broken:
            return Integrity.broken
        if not self.anchored:
            return Integrity.unverified
        if not self.records_in_range:
            return Integrity.empty
        return Integrity.intact

    @property
    def clean(self) -> bool:
        """INTACT: nothing wrong, signatures checked, and something to vouch for."""
        return self.integrity is Integrity.intact

    def render(self) -> str:
        window = "no range" if self.window is None else f"range {self.window}"
        count = (
            "no records in the range"
            if not self.records_in_range
            else f"{self.records_in_range} records in the range"
        )
        head = (
            f"integrity {self.integrity.value}: {window}: {count} "
            f"({self.records_checked} checked from the start of each partition), "
            f"{self.snapshots_referenced} snapshots and {self.clips_referenced} clips "
            f"referred to; signatures {self.signatures}"
        )
        return "\n".join(
            [head, *(f.render() for f in self.broken), *(f.render() for f in self.notes)]
        )
