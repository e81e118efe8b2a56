"""The evidence store: JPEG snapshots kept under their own SHA-256, so an event can name its
snapshot and anyone can check that the file is the one the event saw."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import cv2
import numpy as np

JPEG_QUALITY = 85


class EvidenceError(RuntimeError):
    """A snapshot could not be encoded or written."""


class EvidenceStore:
    """Writes snapshots as `<root>/<sha256>.jpg`; writing the same picture twice is one file."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_of(self, sha256: str) -> Path:
        return self.root / f"{sha256}.jpg"

    def keep(self, image: np.ndarray) -> str:
        """Encode `image` as JPEG, store it, and return its SHA-256."""
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise EvidenceError(f"cannot encode a {image.shape} frame as JPEG")
        jpeg = encoded.tobytes()
        sha256 = hashlib.sha256(jpeg).hexdigest()
        target = self.path_of(sha256)
        if target.exists():
            return sha256
        self.root.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
        try:
            partial.write_bytes(jpeg)
            partial.replace(target)  # atomic: the console never serves half a picture
        except OSError as error:
            raise EvidenceError(f"cannot write snapshot {target}: {error}") from error
        return sha256
