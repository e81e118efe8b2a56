"""The region model in the form a site asks for, and the accuracy gate faster forms must pass.

- onnx: the dynamic-shape export of the bundled weights (config/exported.py), on onnxruntime;
- onnx_int8: that model quantised by onnxruntime (static, QDQ), calibrated on crops of the
  site's own footage. The detect head stays in float: it concatenates box coordinates (up to
  hundreds of pixels) and class scores (0 to 1) into one tensor, and one INT8 scale for both
  rounds every score to zero, so a fully quantised model finds nobody;
- openvino: the same dynamic ONNX compiled by OpenVINO.

A faster form is used only after it kept `detector.backend_min_kept` of the in-zone persons
the full-frame 640 px model finds on the site's footage; the result is recorded beside the
model, keyed by the model's and the footage's hashes, so a worker start does not repeat it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from config.detector import Detector, ModelBackend
from config.exported import ExportError
from config.resources import ResourceError, ensure_dynamic_onnx, model_path, sha256_of
from config.site import SiteConfig
from detectors.accuracy import (
    BackendRefused,
    KeptShare,
    SiteFrame,
    footage_digest,
    gate_message,
    in_zone,
    kept,
    reference_settings,
    site_frames,
)
from detectors.backends import fixed_input_size
from detectors.model import ModelError, ObjectDetector
from detectors.regions import RegionPlan
from detectors.session import ModelSession, crop_input

log = logging.getLogger(__name__)

# Frames of each camera: calibration and gate frames are disjoint (offsets 0 and 10 of every
# 20th), so the gate is not judged on what the quantiser saw.
CALIBRATION_FRAMES = 12
GATE_FRAMES = 24  # about 70 in-zone persons on vtest: one miss is 1.5 %
FRAME_SPACING = 20


def require_dynamic_input(model_file: Path) -> None:
    """Region inference runs the model on crops of many sizes: a model exported for one image
    size is refused here, not by the runtime at the first crop of another size."""
    try:
        fixed = fixed_input_size(model_file)
    except ModelError as error:
        raise ModelError(f"detector.model: {error}; detector.inference regions runs ONNX") from None
    if fixed is not None:
        raise ModelError(
            f"detector.model: {model_file} takes {fixed[1]}x{fixed[0]} px images only, and "
            "detector.inference regions runs it on crops of many sizes: export it with dynamic "
            "shapes (`yolo export format=onnx dynamic=True`) or set detector.inference full_frame"
        )


def region_model(site: SiteConfig) -> Path:
    """The model file region inference runs for this site, its backend checked by the gate."""
    settings = site.detector
    data_dir = Path(site.data_dir)
    try:
        dynamic = (
            ensure_dynamic_onnx(data_dir) if settings.model == "default" else Path(settings.model)
        )
    except (ResourceError, ExportError) as error:
        raise ModelError(f"detector.model default, for region inference: {error}") from error
    if not dynamic.exists():
        raise ModelError(f"detector.model: {dynamic} does not exist")
    require_dynamic_input(dynamic)
    if settings.backend is ModelBackend.onnx:
        return dynamic
    if settings.backend is ModelBackend.openvino:
        check_backend(site, dynamic)
        return dynamic
    if settings.backend is ModelBackend.onnx_int8:
        calibration = site_frames(site, CALIBRATION_FRAMES, FRAME_SPACING, offset=0)
        digest = footage_digest(calibration)[:16]
        int8 = dynamic.with_name(f"{dynamic.stem}.int8-{digest}.onnx")
        if not int8.is_file():
            log.info("quantising %s to INT8 on %d frames of the site", dynamic, len(calibration))
            quantise_int8(dynamic, int8, calibration_inputs(calibration, settings))
        check_backend(site, int8)
        return int8
    raise BackendRefused(
        f"detector.backend {settings.backend.value}: region inference runs on onnx, "
        "onnx_int8 or openvino"
    )


def calibration_inputs(frames: Sequence[SiteFrame], settings: Detector) -> list[np.ndarray]:
    """The crops region inference would run on: every zone of every frame, whole."""
    inputs = []
    for frame in frames:
        height, width = frame.image.shape[:2]
        for crop in _plan(frame, settings, (width, height)).whole_zones():
            inputs.append(crop_input(frame.image, crop).tensor[None])
    return inputs


def detect_head_nodes(model: object) -> list[str]:
    """Names of the nodes of the model's last module, the detect head (/model.N/...)."""
    prefixes = [n.name.split("/")[1] for n in model.graph.node if n.name.startswith("/model.")]  # type: ignore[attr-defined]
    head = max(prefixes, key=lambda p: int(p.split(".")[1]))
    return [n.name for n in model.graph.node if n.name.startswith(f"/{head}/")]  # type: ignore[attr-defined]


def quantise_int8(
    float_model: Path, target: Path, inputs: Sequence[np.ndarray], keep_head_float: bool = True
) -> Path:
    """Static QDQ quantisation of `float_model` calibrated on `inputs`, written atomically."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Calibration(CalibrationDataReader):
        def __init__(self) -> None:
            self._items: Iterator[np.ndarray] = iter(inputs)

        def get_next(self) -> dict[str, np.ndarray] | None:
            item = next(self._items, None)
            return None if item is None else {"images": item}

    head = detect_head_nodes(onnx.load(str(float_model))) if keep_head_float else []
    partial = target.with_name(target.name + ".partial")
    quantize_static(
        str(float_model),
        str(partial),
        Calibration(),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        per_channel=True,
        nodes_to_exclude=head,
        calibrate_method=CalibrationMethod.MinMax,
    )
    partial.replace(target)
    return target


def check_backend(site: SiteConfig, model_file: Path) -> KeptShare:
    """Accept the site's backend on `model_file` or raise BackendRefused saying by how much
    it missed; a check already recorded for this model, footage and settings is reused."""
    settings = site.detector
    frames = site_frames(site, GATE_FRAMES, FRAME_SPACING, offset=FRAME_SPACING // 2)
    key = {
        "backend": settings.backend.value,
        "model_sha256": sha256_of(model_file),
        "footage_sha256": footage_digest(frames),
        "settings": settings.model_dump(mode="json", exclude={"backend_min_kept"}),
    }
    record = model_file.with_name(f"{model_file.name}.gate-{settings.backend.value}.json")
    result = _recorded(record, key)
    if result is None:
        result = measure_backend(settings, model_file, frames, Path(site.data_dir))
        record.write_text(json.dumps({**key, "kept": result.kept, "total": result.total}) + "\n")
    log.info(
        "backend %s kept %d of %d in-zone persons (%.3f) of the full-frame model",
        settings.backend.value,
        result.kept,
        result.total,
        result.share,
    )
    if result.share < settings.backend_min_kept:
        raise BackendRefused(
            gate_message(settings.backend.value, result, settings.backend_min_kept, record)
        )
    return result


def measure_backend(
    settings: Detector, model_file: Path, frames: Sequence[SiteFrame], data_dir: Path
) -> KeptShare:
    """The share of in-zone persons of the reference model that the backend keeps."""
    reference = ObjectDetector(reference_settings(settings), model_path(data_dir, "onnx"))
    candidate = ModelSession(settings, model_file)
    total = KeptShare(0, 0)
    for frame in frames:
        height, width = frame.image.shape[:2]
        persons = in_zone(reference.detect(frame.image), frame.zones, reference.class_names)
        found = candidate.detect(frame.image, _plan(frame, settings, (width, height)).whole_zones())
        total += kept(persons, found)
    return total


def _plan(frame: SiteFrame, settings: Detector, size: tuple[int, int]) -> RegionPlan:
    return RegionPlan.for_settings(size, [zone.polygon for zone in frame.zones], settings)


def _recorded(record: Path, key: dict) -> KeptShare | None:
    try:
        stored = json.loads(record.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or {k: stored.get(k) for k in key} != key:
        return None
    return KeptShare(int(stored["kept"]), int(stored["total"]))
