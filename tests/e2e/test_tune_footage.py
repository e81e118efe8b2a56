"""`quaywatch tune` and `quaywatch zones preview` on the real footage with the real model."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from ruamel.yaml import YAML

from config.loading import load_site
from detectors.annotate import zone_colour
from quaywatch.cli import main

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "config" / "sites" / "demo.yaml"
LABELS = REPO / "tests" / "data" / "vtest-gt" / "gt.txt"


def site_with(
    tmp_path: Path, name: str, min_score: float | None = None, zones: list | None = None
) -> Path:
    """The demo site as a file elsewhere (paths made absolute), optionally with every zone's
    min_score changed or other zones."""
    yaml = YAML()
    tree = yaml.load(DEMO.read_text())
    tree["data_dir"] = str((DEMO.parent / tree["data_dir"]).resolve())
    for camera in tree["cameras"]:
        camera["source"] = str((DEMO.parent / camera["source"]).resolve())
    for trusted in tree["signing"]["keys"]:
        trusted["public_key"] = str((DEMO.parent / trusted["public_key"]).resolve())
    if zones is not None:
        tree["zones"] = zones
    if min_score is not None:
        for zone in tree["zones"]:
            zone["min_score"] = min_score
    path = tmp_path / f"{name}.yaml"
    with path.open("w") as out:
        yaml.dump(tree, out)
    return path


def frame_count(video: Path) -> int:
    capture = cv2.VideoCapture(str(video))
    assert capture.isOpened(), f"OpenCV cannot open {video}"
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory, footage_path: Path) -> dict:
    """The demo config and one with min_score 0.95, over the labelled 100 frames."""
    work = tmp_path_factory.mktemp("compare")
    demo = site_with(work, "demo")
    strict = site_with(work, "min-score-0.95", min_score=0.95)
    out = work / "out"
    code = main(
        ["tune", "--compare", str(demo), str(strict), "--camera", "quay-cam-1",
         "--labels", str(LABELS), "--frames", "100", "--out", str(out), "--no-progress"]
    )  # fmt: skip
    assert code == 0
    return json.loads((out / "summary.json").read_text())


def test_labels_give_precision_and_recall_of_events_and_detections(comparison: dict) -> None:
    demo = comparison["runs"][0]
    accuracy = demo["accuracy"]
    assert accuracy["labelled_frames"] == 50  # 5 of the footage's 10 frames a second
    assert accuracy["detection"]["recall"] > 0.5
    assert accuracy["detection"]["precision"] > 0.5
    events = accuracy["events_total"]
    assert events["true_positives"] >= 3
    assert events["recall"] >= 0.75
    assert 0 < events["precision"] <= 1
    assert accuracy["events"]["quay-q3/intrusion"]["recall"] >= 0.75


def test_min_score_095_loses_recall_on_the_same_labels(comparison: dict) -> None:
    demo, strict = comparison["runs"]
    assert strict["accuracy"]["labelled_frames"] == demo["accuracy"]["labelled_frames"]
    assert (
        strict["accuracy"]["events_total"]["recall"]
        <= demo["accuracy"]["events_total"]["recall"] - 0.5
    )
    assert sum(strict["events"].values()) < sum(demo["events"].values())
    # the same frames and model: only the zone filter differs
    assert strict["detections"] == demo["detections"]


def test_comparison_video_shows_both_configs_side_by_side(comparison: dict) -> None:
    video = Path(comparison["video"])
    capture = cv2.VideoCapture(str(video))
    width = capture.get(cv2.CAP_PROP_FRAME_WIDTH)
    capture.release()
    assert width == 2 * 768
    assert frame_count(video) == 50


def test_tune_writes_video_contact_sheet_and_summary(
    tmp_path: Path, footage_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(
        ["tune", "--config", str(site_with(tmp_path, "demo")), "--camera", "quay-cam-1",
         "--frames", "20", "--out", str(out), "--no-progress"]
    )  # fmt: skip
    assert code == 0
    # --frames counts footage frames; the camera's 5 fps samples the 10 fps footage, and the
    # output says so rather than leaving half of them unexplained.
    assert (
        "\nanalysed 10 of the first 20 footage frames: the footage runs at 10 fps and camera "
        "quay-cam-1 samples it at its target_fps 5 (one frame in 2), as the worker does live\n"
    ) in "\n" + capsys.readouterr().out
    document = json.loads((out / "summary.json").read_text())
    assert (document["frame_limit"], document["media_fps"], document["target_fps"]) == (20, 10, 5)
    summary = document["runs"][0]
    assert summary["frames"] == 10
    assert frame_count(out / "annotated.mp4") == 10
    sheet = cv2.imread(str(out / "contact-sheet.png"))
    assert sheet is not None and sheet.shape[1] == 4 * 384
    assert summary["model_frames"] >= 1 and summary["detections"] >= summary["model_frames"]
    assert set(summary["seconds"]) == {"decode", "motion", "model", "tracking", "rules"}
    assert summary["seconds"]["model"] > 0 and summary["frames_per_second"] > 0
    assert "quay-q3/intrusion" in summary["events"]
    assert "gate-lane/line_crossing" in summary["events"]


def test_zones_preview_draws_every_zone_outline(tmp_path: Path, footage_path: Path) -> None:
    out = tmp_path / "zones.png"
    assert main(["zones", "preview", "--config", str(DEMO), "--camera", "quay-cam-1",
                 "--out", str(out)]) == 0  # fmt: skip
    drawn = cv2.imread(str(out))
    raw = cv2.VideoCapture(str(footage_path)).read()[1]
    assert drawn.shape == raw.shape
    for index, zone in enumerate(load_site(DEMO).zones_of("quay-cam-1")):
        corners = np.array(zone.polygon + zone.polygon[:1], dtype=float)
        # the middle of every edge carries the zone's own outline colour
        for start, end in zip(corners[:-1], corners[1:], strict=True):
            x, y = ((start + end) / 2).round().astype(int)
            x, y = min(x, 767), min(y, 575)
            patch = drawn[max(0, y - 1) : y + 2, max(0, x - 1) : x + 2].reshape(-1, 3)
            colour = np.array(zone_colour(index))
            assert (np.abs(patch.astype(int) - colour).max(axis=1) <= 30).any(), (zone.id, x, y)


def test_the_cloth_on_the_lawn_raises_no_access_event_once_tracks_must_travel(
    tmp_path: Path, footage_path: Path
) -> None:
    # A zone on the lower lawn around the yellow jacket, which the model calls a person in
    # every frame: without minimum travel it raises an intrusion, with it nothing.
    lawn = {"id": "lower-lawn", "camera": "quay-cam-1", "min_score": 0.3, "inertia_frames": 3,
            "polygon": [[20, 470], [230, 470], [230, 560], [20, 560]]}  # fmt: skip
    plain = site_with(tmp_path, "plain", zones=[lawn])
    travelled = site_with(tmp_path, "travelled", zones=[lawn | {"min_travel": 0.5}])
    out = tmp_path / "out"
    code = main(
        ["tune", "--compare", str(plain), str(travelled), "--camera", "quay-cam-1",
         "--frames", "40", "--out", str(out), "--no-progress"]
    )  # fmt: skip
    assert code == 0
    runs = json.loads((out / "summary.json").read_text())["runs"]
    assert runs[0]["events"]["lower-lawn/intrusion"] >= 1
    assert runs[1]["events"]["lower-lawn/intrusion"] == 0
