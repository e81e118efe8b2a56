"""When region inference looks at every zone whole: at the first frame and after a still
scene, not because frames came far apart while the worker was busy; in between only where
the zones meet motion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from config.detector import Detector, InferenceMode
from config.zones import Zone
from detectors.evidence import EvidenceStore
from detectors.pipeline import CameraPipeline
from detectors.regions import Crop

START = datetime(2026, 3, 14, 1, 0, tzinfo=UTC)
ZONE = Zone(id="lane", camera="cam", polygon=[(100, 300), (300, 300), (300, 400), (100, 400)])


class CropsAsked:
    """Stands in for the model in this test of when and where it is asked to look; it finds
    nobody and remembers the crops."""

    class_names = {0: "person"}

    def __init__(self) -> None:
        self.asked: list[list[Crop]] = []

    def detect(self, image: np.ndarray, crops: list[Crop]) -> np.ndarray:
        self.asked.append(list(crops))
        return np.zeros((0, 6), np.float32)


def frame(walker_x: int | None) -> np.ndarray:
    image = np.full((576, 768, 3), 90, np.uint8)
    if walker_x is not None:
        image[280:390, walker_x : walker_x + 40] = 230
    return image


def test_whole_zones_after_a_still_scene_and_motion_crops_while_busy(tmp_path: Path) -> None:
    model = CropsAsked()
    settings = Detector(inference=InferenceMode.regions)
    pipeline = CameraPipeline("cam", [ZONE], settings, "UTC", model, EvidenceStore(tmp_path))
    pipeline.analyse(frame(None), START)
    whole = [c.box for c in model.asked[-1]]
    for step in range(1, 12):  # a still scene: the background settles, the model is skipped
        pipeline.analyse(frame(None), START + timedelta(seconds=step / 2))
    assert [[c.box for c in crops] for crops in model.asked] == [whole, whole]
    # someone walks in: crops around the walker only
    pipeline.analyse(frame(150), START + timedelta(seconds=6.5))
    walker = model.asked[-1]
    assert walker and sum(c.input_size[0] * c.input_size[1] for c in walker) < sum(
        (y2 - y1) * (x2 - x1) for x1, y1, x2, y2 in whole
    )
    # the next frame comes 6 s later (the worker was busy): still only where things move
    pipeline.analyse(frame(190), START + timedelta(seconds=12.5))
    assert [c.box for c in model.asked[-1]] != whole
