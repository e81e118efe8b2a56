"""Evidence snapshots for the console: only a SHA-256 name, only inside the snapshot store."""

from __future__ import annotations

import re
from pathlib import Path

SHA256_NAME = re.compile(r"^[0-9a-f]{64}$")


class SnapshotRefused(ValueError):
    """The name is not a snapshot name, or it points outside the store."""


class SnapshotStore:
    """Looks snapshots up by their SHA-256 under `root` (the data dir's `snapshots/`)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, name: str) -> Path | None:
        """The JPEG for `name` (64 lower-case hex digits, optionally with `.jpg`), or None if
        the store has no such file. Raises SnapshotRefused for anything else."""
        sha256 = name.removesuffix(".jpg")
        if not SHA256_NAME.match(sha256):
            raise SnapshotRefused(
                f"snapshot name {name[:80]!r}: expected 64 lower-case hex digits (a SHA-256)"
            )
        root = self.root.resolve()
        # The name check already rules out '..' and '/'; resolving and checking containment
        # also refuses a symlink in the store that points elsewhere.
        resolved = (self.root / f"{sha256}.jpg").resolve()
        if not resolved.is_relative_to(root):
            raise SnapshotRefused(f"snapshot {sha256} resolves outside {root}")
        return resolved if resolved.is_file() else None
