"""One inference session of the dynamic-shape model, run on crops of any size, several in one
call when they have the same size.

The session is the expensive part of the worker (hundreds of MB, all cores while it runs), so
one is made per worker process and shared by its cameras (streams/worker/scheduling.py). It
takes crops in model-input pixels and returns boxes in frame pixels.

>>> session = ModelSession(settings, Path(".data/models/best_dynamic.onnx"))  # doctest: +SKIP
>>> session.detect(image, plan.crops(motion.regions))                     # doctest: +SKIP
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from config.detector import Detector
from detectors.backends import InferenceBackend, open_backend
from detectors.regions import Crop, suppress_across_seams

NMS_IOU = 0.7  # the model's own NMS within one crop, as ultralytics runs it
LETTERBOX_GREY = 114  # what the model was trained with beyond an image's edge


@dataclass(frozen=True)
class CropInput:
    """One crop of one frame, ready for the model: CHW float32 in 0..1, RGB."""

    crop: Crop
    tensor: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.tensor.shape[1], self.tensor.shape[2]


def crop_input(image: np.ndarray, crop: Crop) -> CropInput:
    """Cut, scale and pad one crop of a BGR frame into the model's input layout."""
    x1, y1, x2, y2 = crop.box
    part = image[y1:y2, x1:x2]
    if crop.scale != 1.0:
        size = (round((x2 - x1) * crop.scale), round((y2 - y1) * crop.scale))
        part = cv2.resize(part, size, interpolation=cv2.INTER_AREA)
    height, width = crop.input_size
    if part.shape[:2] != (height, width):  # a frame smaller than the stride allows
        part = cv2.copyMakeBorder(
            part,
            0,
            height - part.shape[0],
            0,
            width - part.shape[1],
            cv2.BORDER_CONSTANT,
            value=(LETTERBOX_GREY,) * 3,
        )
    tensor = np.ascontiguousarray(part[:, :, ::-1].transpose(2, 0, 1), dtype=np.float32)
    return CropInput(crop, tensor / np.float32(255.0))


class ModelSession:
    """The dynamic-shape model on one backend; class names from the model's own metadata."""

    def __init__(
        self, settings: Detector, model_file: Path, backend: InferenceBackend | None = None
    ):
        self.settings = settings
        self.backend = backend or open_backend(settings.backend, model_file)
        raw_names = ast.literal_eval(self.backend.metadata.get("names", "{}"))
        self.class_names = {
            int(index): settings.class_aliases.get(name, name) for index, name in raw_names.items()
        }
        # Classes that alias to the same name (Normal and Fall are both a person) are one
        # class for NMS: a person is one box, whatever pose the model thinks it sees.
        names = sorted(set(self.class_names.values()))
        self._nms_group = np.array(
            [names.index(self.class_names[i]) for i in range(len(self.class_names))]
        )

    def detect(self, image: np.ndarray, crops: Sequence[Crop]) -> np.ndarray:
        """Rows of x1 y1 x2 y2 score class_index in frame pixels, float32, over all crops."""
        inputs = [crop_input(image, crop) for crop in crops]
        return suppress_across_seams(self.run(inputs))

    def run(self, inputs: Sequence[CropInput]) -> list[np.ndarray]:
        """Each crop's rows in frame pixels; crops of one size go through the model together."""
        by_shape: dict[tuple[int, int], list[int]] = defaultdict(list)
        for index, item in enumerate(inputs):
            by_shape[item.shape].append(index)
        found: list[np.ndarray] = [np.zeros((0, 6), np.float32)] * len(inputs)
        for indices in by_shape.values():
            raw = self.backend.infer(np.stack([inputs[i].tensor for i in indices]))
            for row, index in zip(raw, indices, strict=True):
                found[index] = inputs[index].crop.to_frame(self.decode(row))
        return found

    def decode(self, raw: np.ndarray) -> np.ndarray:
        """One image's model output (4 + classes, anchors: cx cy w h, class scores) to rows
        of x1 y1 x2 y2 score class_index above the confidence, after NMS."""
        scores = raw[4:]
        classes = scores.argmax(axis=0)
        best = scores[classes, np.arange(scores.shape[1])]
        keep = best >= self.settings.confidence
        if not keep.any():
            return np.zeros((0, 6), np.float32)
        cx, cy, w, h = raw[:4, keep]
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
        best, classes = best[keep], classes[keep]
        # Offsetting each NMS group far apart makes one NMS call class-aware.
        shifted = boxes + (self._nms_group[classes] * 10_000.0)[:, None]
        chosen = cv2.dnn.NMSBoxes(
            [[b[0], b[1], b[2] - b[0], b[3] - b[1]] for b in shifted.tolist()],
            best.tolist(),
            self.settings.confidence,
            NMS_IOU,
        )
        chosen = np.asarray(chosen, dtype=np.int64).reshape(-1)
        return np.concatenate(
            [boxes[chosen], best[chosen, None], classes[chosen, None].astype(np.float32)], axis=1
        ).astype(np.float32)
