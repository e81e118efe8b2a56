"""The runtimes the dynamic-shape model runs on: onnxruntime (float or INT8) and OpenVINO.

Each takes a batch of CHW float32 images of one size and returns the raw model output
(batch, 4 + classes, anchors). Which faster form a site may use is decided by the accuracy
gate (detectors/accuracy.py), not here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np

from config.detector import ModelBackend
from detectors.model import ModelError


class BackendError(ModelError):
    """The model cannot be run on the backend asked for."""


class InferenceBackend(Protocol):
    metadata: dict[str, str]  # the exporter's metadata: class names, stride, ...

    def infer(self, batch: np.ndarray) -> np.ndarray: ...


def inference_threads() -> int:
    """One session per worker runs on every core: cameras share it instead of splitting them."""
    return os.cpu_count() or 1


class OnnxRuntimeBackend:
    """An ONNX file, float or QDQ-quantised, on onnxruntime's CPU provider."""

    def __init__(self, model_file: Path) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = inference_threads()
        options.inter_op_num_threads = 1
        try:
            self._session = onnxruntime.InferenceSession(
                str(model_file), options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime raises its own untyped errors
            raise BackendError(f"cannot load {model_file} on onnxruntime: {error}") from error
        self._input = self._session.get_inputs()[0].name
        self.metadata = dict(self._session.get_modelmeta().custom_metadata_map)

    def infer(self, batch: np.ndarray) -> np.ndarray:
        return self._session.run(None, {self._input: batch})[0]


class OpenVinoBackend:
    """An ONNX file compiled by OpenVINO for the CPU, any input size (dynamic shapes)."""

    def __init__(self, model_file: Path) -> None:
        try:
            import openvino
        except ImportError as error:
            raise BackendError(
                "detector.backend openvino: the openvino package is missing"
            ) from error
        core = openvino.Core()
        try:
            model = core.read_model(str(model_file))
            self._compiled = core.compile_model(
                model,
                "CPU",
                {"INFERENCE_NUM_THREADS": inference_threads(), "PERFORMANCE_HINT": "LATENCY"},
            )
        except Exception as error:  # OpenVINO raises RuntimeError subclasses of its own
            raise BackendError(f"cannot compile {model_file} on OpenVINO: {error}") from error
        self._request = self._compiled.create_infer_request()
        self.metadata = _onnx_metadata(model_file)

    def infer(self, batch: np.ndarray) -> np.ndarray:
        self._request.infer({0: batch})
        return np.array(self._request.get_output_tensor(0).data, copy=True)


def open_backend(backend: ModelBackend, model_file: Path) -> InferenceBackend:
    """The runtime for a backend setting; INT8 is an ONNX file like the float one."""
    if backend in (ModelBackend.onnx, ModelBackend.onnx_int8):
        return OnnxRuntimeBackend(model_file)
    if backend is ModelBackend.openvino:
        return OpenVinoBackend(model_file)
    raise BackendError(
        f"detector.backend {backend.value}: region inference runs on onnx, onnx_int8 or "
        "openvino; pytorch runs only with detector.inference full_frame"
    )


def _onnx_metadata(model_file: Path) -> dict[str, str]:
    import onnx

    model = onnx.load(str(model_file), load_external_data=False)
    return {entry.key: entry.value for entry in model.metadata_props}


def fixed_input_size(model_file: Path) -> tuple[int, int] | None:
    """The (height, width) an ONNX model's image input is fixed to; None where both are
    dynamic. A file that is no ONNX model is a ModelError."""
    import onnx

    try:
        model = onnx.load(str(model_file), load_external_data=False)
    except Exception as error:  # protobuf's DecodeError and friends
        raise ModelError(f"{model_file} is not an ONNX model: {error}") from error
    dims = model.graph.input[0].type.tensor_type.shape.dim
    height, width = (dim.dim_value for dim in dims[2:4])  # 0: named, i.e. dynamic
    return (height, width) if height or width else None
