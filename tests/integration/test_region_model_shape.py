"""Region inference needs a dynamic-shape model: a worker configured with a model exported for
one image size, or with a file that is no ONNX model, is refused at start with an error that
names the field and says what to do, not by the runtime at the first crop of another size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from config.detector import InferenceMode, ModelBackend
from config.loading import load_site
from config.site import SiteConfig
from detectors.faster import region_model
from detectors.model import ModelError
from detectors.session import ModelSession
from tests.fixtures.resources import DEMO_SITE

pytestmark = pytest.mark.integration


def regions_with(model: Path) -> SiteConfig:
    demo = load_site(DEMO_SITE, check_keys=False)
    detector = demo.detector.model_copy(
        update={"inference": InferenceMode.regions, "backend": ModelBackend.onnx, "model": model}
    )
    return demo.model_copy(update={"detector": detector})


def test_a_fixed_shape_model_is_refused_for_region_inference(model_onnx_path: Path) -> None:
    with pytest.raises(ModelError) as refused:
        region_model(regions_with(model_onnx_path))
    message = str(refused.value)
    assert message.startswith(f"detector.model: {model_onnx_path} takes 640x640 px images only")
    assert "dynamic=True" in message and "detector.inference full_frame" in message


def test_a_file_that_is_no_onnx_model_is_refused_for_region_inference(
    model_pt_path: Path,
) -> None:
    with pytest.raises(ModelError, match=rf"^detector.model: {model_pt_path} is not an ONNX"):
        region_model(regions_with(model_pt_path))


def test_the_dynamic_export_runs_crops_of_any_size(model_dynamic_onnx_path: Path) -> None:
    site = regions_with(model_dynamic_onnx_path)
    assert region_model(site) == model_dynamic_onnx_path
    session = ModelSession(site.detector, model_dynamic_onnx_path)
    for height, width in ((320, 480), (640, 640)):
        batch = np.zeros((1, 3, height, width), np.float32)
        assert session.backend.infer(batch).shape[0] == 1
