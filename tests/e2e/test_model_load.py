"""The model is loaded, and its loading printed, once per detector."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

# In a process of its own: ultralytics' logger keeps the stdout it found when first imported,
# which inside pytest may be another test's capture.
DETECT_TWICE = """
import sys
from pathlib import Path
import numpy as np
from config.detector import Detector
from detectors.model import ObjectDetector

detector = ObjectDetector(Detector(), Path(sys.argv[1]))
for _ in range(2):
    assert detector.detect(np.zeros((576, 768, 3), dtype=np.uint8)).shape[1] == 6
print("names", sorted(set(detector.class_names.values())))
"""


def test_the_onnx_model_is_loaded_once_and_says_so_once(model_onnx_path: Path) -> None:
    ran = subprocess.run(
        [sys.executable, "-c", DETECT_TWICE, str(model_onnx_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "YOLO_OFFLINE": "1"},
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    said = (ran.stdout + ran.stderr).splitlines()
    assert [line for line in said if line.startswith("Loading ")] == [
        f"Loading {model_onnx_path} for ONNX Runtime inference..."
    ]
    assert "names ['person']" in said
