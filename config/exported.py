"""The dynamic-shape ONNX of the default model, exported from the bundled weights at set-up.

The bundled best_fp16.onnx takes only 640x640 images; region inference needs crops of any
size at the frame's own scale, so the PyTorch weights are exported with `dynamic=True`.

Hashing: the exporter stamps the export time into the file's metadata, and the bytes of the
graph depend on the torch, onnx and ultralytics versions doing the export, so there is no one
SHA-256 to pin in the source. What is pinned instead is the SHA-256 of the source weights
(config.resources.MODEL_PT) plus the exporter versions; the time stamp is replaced by the
source hash, so one exporter gives the same bytes every time, and the produced file's SHA-256
is written to a manifest beside it. Loading checks the file against the manifest and the
manifest against the weights and exporter in use; any mismatch exports afresh.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from importlib.metadata import version
from pathlib import Path

DYNAMIC_ONNX_NAME = "best_dynamic.onnx"
EXPORTER_PACKAGES = ("ultralytics", "torch", "onnx")


class ExportError(RuntimeError):
    """The dynamic model could not be exported or does not match its manifest."""


def manifest_path(model: Path) -> Path:
    return model.with_name(model.name + ".manifest.json")


def exporter_versions() -> dict[str, str]:
    return {package: version(package) for package in EXPORTER_PACKAGES}


def expected_manifest(source_sha256: str) -> dict[str, object]:
    """What the manifest of a file exported here and now from these weights must say, less
    the produced file's own hash."""
    return {"source_sha256": source_sha256, "exporter": exporter_versions(), "dynamic": True}


def verified(model: Path, source_sha256: str) -> bool:
    """Whether `model` is the export of these weights by this exporter and is unchanged since."""
    from config.resources import sha256_of

    manifest = manifest_path(model)
    if not model.is_file() or not manifest.is_file():
        return False
    try:
        recorded = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(recorded, dict):
        return False
    produced = recorded.pop("sha256", None)
    return recorded == expected_manifest(source_sha256) and produced == sha256_of(model)


def ensure_exported(weights: Path, source_sha256: str, models_dir: Path) -> Path:
    """The dynamic ONNX of `weights` in models_dir, exported unless a verified one is there."""
    target = models_dir / DYNAMIC_ONNX_NAME
    if verified(target, source_sha256):
        return target
    with tempfile.TemporaryDirectory() as scratch:
        exported = export_dynamic_onnx(weights, Path(scratch), source_sha256)
        _place(exported, target, source_sha256)
    if not verified(target, source_sha256):
        raise ExportError(f"{target}: the exported model does not match its own manifest")
    return target


def export_dynamic_onnx(weights: Path, work: Path, source_sha256: str) -> Path:
    """Export `weights` (.pt) to a dynamic-shape ONNX in `work`, reproducibly, offline."""
    import onnx
    from ultralytics import YOLO
    from ultralytics.utils import LOGGER

    copy = work / weights.name  # the exporter writes beside its input
    shutil.copyfile(weights, copy)
    level = LOGGER.level
    LOGGER.setLevel(logging.WARNING)  # its progress report is pages long
    try:
        # simplify=False: the simplifier is a separate package the exporter would try to fetch.
        produced = Path(YOLO(str(copy)).export(format="onnx", dynamic=True, simplify=False))
    except Exception as error:  # the exporter raises many kinds
        raise ExportError(f"cannot export {weights} to a dynamic ONNX: {error}") from error
    finally:
        LOGGER.setLevel(level)
    graph = onnx.load(str(produced))
    for entry in graph.metadata_props:
        if entry.key == "date":
            entry.value = f"exported from weights sha256 {source_sha256}"
    onnx.save(graph, str(produced))
    return produced


def _place(exported: Path, target: Path, source_sha256: str) -> None:
    from config.resources import sha256_of

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(exported, partial)
    manifest = {**expected_manifest(source_sha256), "sha256": sha256_of(partial)}
    manifest_partial = partial.with_name(partial.name + ".manifest")
    manifest_partial.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    partial.replace(target)  # atomic: a reader never sees half a model
    manifest_partial.replace(manifest_path(target))
