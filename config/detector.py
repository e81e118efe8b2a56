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
    # INT8 weights and activations (onnxruntime static QDQ, calibrated on the site's footage)
    # with the detect head kept in float; region inference only.
    onnx_int8 = "onnx_int8"


class InferenceMode(StrEnum):
    """Where in a frame the model runs."""

    full_frame = "full_frame"  # the whole frame shrunk to image_size
    regions = "regions"  # crops where zones and motion meet, at the frame's own scale


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
    inference: InferenceMode = Field(
        default=InferenceMode.full_frame,
        title="Inference",
        description="full_frame: the whole frame shrunk to image_size; regions: crops where "
        "zones and motion (or people already tracked) meet, at the frame's own scale, with the "
        "dynamic-shape default model",
    )
    region_scale: float = Field(
        default=1.0,
        gt=0,
        le=4,
        title="Region scale",
        description="Scale of the crops before the model: 1 is the frame's own scale; below 1 "
        "is faster and loses small, distant people",
    )
    region_padding: int = Field(
        default=16,
        ge=0,
        le=512,
        title="Region padding",
        description="Pixels of context around a moving thing and around a zone",
    )
    region_reach: int = Field(
        default=96,
        ge=0,
        le=4096,
        title="Region reach",
        description="Pixels a person standing at a zone's top edge reaches above it (the "
        "tallest person's height there): a zone's crops extend this far up",
    )
    region_tile: int = Field(
        default=384,
        ge=64,
        le=4096,
        multiple_of=32,
        title="Region tile",
        description="Largest crop side in model pixels; larger crops are tiled with overlap",
    )
    batch_crops: bool = Field(
        default=True,
        title="Batch crops",
        description="Region inference: crops of the same size, of all cameras of a worker, go "
        "through the model in one call (bench/cameras.py measures whether that is faster)",
    )
    backend_min_kept: Score = Field(
        default=0.95,
        title="Backend accuracy gate",
        description="Share of the in-zone persons the full-frame 640 px model finds that a "
        "faster backend (onnx_int8, openvino) must keep on the site's footage to be accepted",
    )
    motion_min_area: SquarePixels = Field(
        default=600,
        title="Motion area",
        description="Square pixels of change below which a frame counts as still",
    )
