"""Evidence files for the console (snapshots, clips): only a SHA-256 name, only inside the
store they belong to."""

from __future__ import annotations

import re
from pathlib import Path

SHA256_NAME = re.compile(r"^[0-9a-f]{64}$")


class SnapshotRefused(ValueError):
    """The name is not an evidence file's name, or it points outside the store."""


class EvidenceFiles:
    """Looks evidence files up by their SHA-256 under `root`, all with one `suffix`."""

    kind = "evidence file"

    def __init__(self, root: Path, suffix: str) -> None:
        self.root = root
        self.suffix = suffix

    def path_of(self, name: str) -> Path | None:
        """The file for `name` (64 lower-case hex digits, optionally with the suffix), or None
        if the store has no such file. Raises SnapshotRefused for anything else."""
        sha256 = name.removesuffix(self.suffix)
        if not SHA256_NAME.match(sha256):
            raise SnapshotRefused(
                f"{self.kind} name {name[:80]!r}: expected 64 lower-case hex digits (a SHA-256)"
            )
        root = self.root.resolve()
        # The name check already rules out '..' and '/'; resolving and checking containment
        # also refuses a symlink in the store that points elsewhere.
        resolved = (self.root / f"{sha256}{self.suffix}").resolve()
        if not resolved.is_relative_to(root):
            raise SnapshotRefused(f"{self.kind} {sha256} resolves outside {root}")
        return resolved if resolved.is_file() else None


class SnapshotStore(EvidenceFiles):
    """The JPEG snapshots, under the data dir's `snapshots/`."""

    kind = "snapshot"

    def __init__(self, root: Path) -> None:
        super().__init__(root, ".jpg")


class ClipStore(EvidenceFiles):
    """The WebM clips around incidents' starts, under the data dir's `clips/`."""

    kind = "clip"

    def __init__(self, root: Path) -> None:
        super().__init__(root, ".webm")
