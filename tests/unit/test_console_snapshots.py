"""Snapshot serving looks only inside the snapshot store, and only for SHA-256 names."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from quaywatch.console.snapshots import SnapshotRefused, SnapshotStore

JPEG = b"\xff\xd8\xff\xe0 not really a jpeg \xff\xd9"
SHA = hashlib.sha256(JPEG).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> SnapshotStore:
    root = tmp_path / "snapshots"
    root.mkdir()
    (root / f"{SHA}.jpg").write_bytes(JPEG)
    (tmp_path / "secret.txt").write_text("outside the store")
    return SnapshotStore(root)


def test_a_stored_snapshot_is_found_by_its_sha256(store: SnapshotStore) -> None:
    path = store.path_of(SHA)
    assert path is not None and path.read_bytes() == JPEG
    assert store.path_of(f"{SHA}.jpg") == path


def test_an_unknown_sha256_is_not_found(store: SnapshotStore) -> None:
    assert store.path_of("0" * 64) is None


@pytest.mark.parametrize(
    "name",
    ["../secret.txt", "..", f"../snapshots/{SHA}.jpg", "/etc/passwd", SHA.upper(), SHA[:63], ""],
)
def test_anything_but_a_sha256_name_is_refused(store: SnapshotStore, name: str) -> None:
    with pytest.raises(SnapshotRefused, match="expected 64 lower-case hex digits"):
        store.path_of(name)


def test_a_symlink_in_the_store_pointing_outside_is_refused(store: SnapshotStore) -> None:
    escaping = "e" * 64
    (store.root / f"{escaping}.jpg").symlink_to(store.root.parent / "secret.txt")
    with pytest.raises(SnapshotRefused, match="resolves outside"):
        store.path_of(escaping)
