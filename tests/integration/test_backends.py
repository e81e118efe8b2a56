"""Faster backends of region inference on the demo site's own footage (vtest): INT8 with the
detect head in float and OpenVINO pass the accuracy gate against the full-frame 640 px model;
a fully quantised model, which finds nobody, is refused with an error that says why."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest

from config.detector import InferenceMode, ModelBackend
from config.exported import DYNAMIC_ONNX_NAME, manifest_path
from config.loading import load_site
from detectors.accuracy import BackendRefused, site_frames
from detectors.faster import (
    CALIBRATION_FRAMES,
    FRAME_SPACING,
    calibration_inputs,
    check_backend,
    detect_head_nodes,
    quantise_int8,
    region_model,
)
from detectors.session import ModelSession
from tests.fixtures.resources import DEMO_SITE

pytestmark = pytest.mark.e2e


@pytest.fixture
def site_on(tmp_path, model_dynamic_onnx_path, model_onnx_path, model_pt_path):
    """The demo site with region inference on a backend, its data in a folder of its own
    (so every check is measured here, not read from an earlier run) holding the models."""
    models = tmp_path / "models"
    models.mkdir()
    for path in (model_onnx_path, model_pt_path, model_dynamic_onnx_path):
        (models / path.name).symlink_to(path)
    (models / manifest_path(Path(DYNAMIC_ONNX_NAME)).name).symlink_to(
        manifest_path(model_dynamic_onnx_path)
    )
    demo = load_site(DEMO_SITE, check_keys=False)

    def on(backend: ModelBackend):
        detector = demo.detector.model_copy(
            update={"inference": InferenceMode.regions, "backend": backend}
        )
        return demo.model_copy(update={"detector": detector, "data_dir": tmp_path})

    return on


def gate_record(model: Path, backend: str) -> dict:
    return json.loads(model.with_name(f"{model.name}.gate-{backend}.json").read_text())


def test_int8_with_the_head_in_float_passes_the_gate(site_on) -> None:
    site = site_on(ModelBackend.onnx_int8)
    int8 = region_model(site)
    assert int8.name.startswith("best_dynamic.int8-") and int8.is_file()
    graph = onnx.load(str(int8))
    producer = {out: node.op_type for node in graph.graph.node for out in node.output}
    head = set(detect_head_nodes(graph))
    convs = [node for node in graph.graph.node if node.op_type == "Conv"]
    # a quantised Conv takes its weights from a DequantizeLinear; the head's take float ones
    quantised = {n.name for n in convs if producer.get(n.input[1]) == "DequantizeLinear"}
    # every convolution of the backbone and neck runs in INT8, none of the head's
    assert quantised == {n.name for n in convs if n.name not in head}
    assert head and len(quantised) > 30
    assert any(n.name in head for n in convs)
    record = gate_record(int8, "onnx_int8")
    assert record["total"] >= 50, record  # busy footage: the gate had persons to count
    assert record["kept"] / record["total"] >= site.detector.backend_min_kept, record
    assert len(ModelSession(site.detector, int8).class_names) == 2


def test_openvino_passes_the_gate(site_on) -> None:
    site = site_on(ModelBackend.openvino)
    model = region_model(site)
    record = gate_record(model, "openvino")
    assert record["total"] >= 50, record
    assert record["kept"] / record["total"] >= site.detector.backend_min_kept, record


def test_a_backend_that_fails_the_gate_is_refused_saying_by_how_much(site_on, tmp_path) -> None:
    site = site_on(ModelBackend.onnx_int8)
    frames = site_frames(site, CALIBRATION_FRAMES, FRAME_SPACING, offset=0)[:2]
    whole_graph = tmp_path / "models" / "whole-graph-int8.onnx"
    # the detect head quantised too: box coordinates and scores share one INT8 scale
    quantise_int8(
        tmp_path / "models" / DYNAMIC_ONNX_NAME,
        whole_graph,
        calibration_inputs(frames, site.detector),
        keep_head_float=False,
    )
    with pytest.raises(BackendRefused) as refused:
        check_backend(site, whole_graph)
    message = str(refused.value)
    assert "detector.backend onnx_int8 refused" in message
    assert "in-zone persons the full-frame 640 px model finds" in message
    assert "detector.backend_min_kept 0.95" in message
    record = gate_record(whole_graph, "onnx_int8")
    assert record["kept"] / record["total"] < 0.95 and record["total"] >= 50
