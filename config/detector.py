"""The detection model and the motion gate in front of it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from config.base import Score, SquarePixels, Strict


class ModelBackend(StrEnum):
    """The runtime form of the default detection model."""

    onnx = "onnx"
    pytorch = "pytorch"
    openvino = "openvino"


class Detector(Strict):
    """The detection model and the motion gate in front of it."""

    model: str = Field(
        default="default",
        title="Model",
        description="'default' for the bundled person model, or a path to .pt, .onnx "
        "or an OpenVINO folder",
    )
    backend: ModelBackend = Field(
        default=ModelBackend.onnx,
        title="Backend",
        description="Which form of the default model to run; a path picks by its own suffix",
    )
    image_size: int = Field(
        default=640, ge=32, le=4096, multiple_of=32, title="Image size", description="Model input"
    )
    confidence: Score = Field(
        default=0.25,
        title="Model confidence",
        description="Lowest score the model reports (zones filter further)",
    )
    class_aliases: dict[str, str] = Field(
        default_factory=lambda: {"Normal": "person", "Fall": "person"},
        title="Class aliases",
        description="Model class name to the name zones use",
    )
    motion_gate: bool = Field(
        default=True, title="Motion gate", description="Run the model only where things move"
    )
    motion_min_area: SquarePixels = Field(
        default=600,
        title="Motion area",
        description="Square pixels of change below which a frame counts as still",
    )
