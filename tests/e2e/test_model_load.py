"""The model is loaded, and its loading printed, once per detector, whatever its form."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from config.detector import Detector
from detectors.model import ObjectDetector

pytestmark = pytest.mark.e2e


def test_the_onnx_model_is_loaded_once_and_says_so_once(
    model_onnx_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    detector = ObjectDetector(Detector(), model_onnx_path)
    for _ in range(2):
        rows = detector.detect(np.zeros((576, 768, 3), dtype=np.uint8))
        assert rows.shape[1] == 6
    printed = capfd.readouterr()
    said = (printed.out + printed.err).splitlines()
    assert [line for line in said if line.startswith("Loading ")] == [
        f"Loading {model_onnx_path} for ONNX Runtime inference..."
    ]
    assert set(detector.class_names.values()) == {"person"}
