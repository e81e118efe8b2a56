"""The dynamic-shape model and region inference on real vtest frames: exported from the bundled
weights and pinned by its manifest; on the zones' crops at native scale it keeps the in-zone
persons the full-frame 640 px model finds; tracking follows the mapped-back boxes; the
worker's shared session serves its cameras longest-waiting first."""

from __future__ import annotations

import hashlib
import json
import shutil

import cv2
import numpy as np
import pytest

from config.detector import InferenceMode
from config.exported import DYNAMIC_ONNX_NAME, ensure_exported, manifest_path, verified
from config.loading import load_site
from config.resources import MODEL_PT
from detectors.accuracy import KeptShare, in_zone, kept, reference_settings
from detectors.model import ObjectDetector, ObjectTracker
from detectors.regions import RegionPlan
from detectors.session import ModelSession, crop_input
from streams.worker.scheduling import MAX_BATCH_CROPS, SharedModel, _Turn
from tests.fixtures.resources import DEMO_SITE

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo():
    site = load_site(DEMO_SITE, check_keys=False)
    return site.model_copy(
        update={"detector": site.detector.model_copy(update={"inference": InferenceMode.regions})}
    )


@pytest.fixture(scope="module")
def frames(footage_path) -> list[np.ndarray]:
    """Every 25th frame of vtest: 12 frames, people walking through every zone but one."""
    capture = cv2.VideoCapture(str(footage_path))
    images, index = [], 0
    while len(images) < 12:
        ok, image = capture.read()
        assert ok
        if index % 25 == 0:
            images.append(image)
        index += 1
    capture.release()
    return images


@pytest.fixture(scope="module")
def session(demo, model_dynamic_onnx_path) -> ModelSession:
    return ModelSession(demo.detector, model_dynamic_onnx_path)


def test_the_export_is_reproducible_and_pinned_by_its_manifest(tmp_path, model_pt_path) -> None:
    first = ensure_exported(model_pt_path, MODEL_PT.sha256, tmp_path / "a")
    second = ensure_exported(model_pt_path, MODEL_PT.sha256, tmp_path / "b")
    assert first.name == second.name == DYNAMIC_ONNX_NAME
    digest = hashlib.sha256(first.read_bytes()).hexdigest()
    assert hashlib.sha256(second.read_bytes()).hexdigest() == digest
    manifest = json.loads(manifest_path(first).read_text())
    assert manifest["sha256"] == digest and manifest["source_sha256"] == MODEL_PT.sha256
    # a changed file, or a manifest of other weights, is not trusted, and is exported afresh
    exported = first.read_bytes()
    first.write_bytes(exported[:-1] + bytes([exported[-1] ^ 0xFF]))
    assert not verified(first, MODEL_PT.sha256)
    assert not verified(second, "0" * 64)
    assert (
        hashlib.sha256(
            ensure_exported(model_pt_path, MODEL_PT.sha256, tmp_path / "a").read_bytes()
        ).hexdigest()
        == digest
    )
    shutil.rmtree(tmp_path / "b")


def test_the_zones_crops_at_native_scale_keep_the_in_zone_persons(demo, frames, session) -> None:
    reference = ObjectDetector(
        reference_settings(demo.detector), demo.data_dir / "models" / "best_fp16.onnx"
    )
    zones = demo.zones_of("quay-cam-1")
    plan = RegionPlan.for_settings((768, 576), [z.polygon for z in zones], demo.detector)
    share = KeptShare(0, 0)
    for image in frames:
        persons = in_zone(reference.detect(image), zones, reference.class_names)
        share += kept(persons, session.detect(image, plan.whole_zones()))
    assert share.total >= 30, share  # the footage is busy: the check has something to count
    assert share.share >= 0.95, share


def test_boxes_of_a_crop_land_where_the_full_frame_model_puts_them(demo, frames, session) -> None:
    image = frames[4]
    whole = session.detect(
        image,
        RegionPlan.for_settings(
            (768, 576), [[(0, 0), (767, 0), (767, 575)]], demo.detector
        ).whole_zones(),
    )
    assert len(whole) >= 3
    person = whole[np.argmax(whole[:, 4])]
    x1, y1, x2, y2 = (int(v) for v in person[:4])
    crop_plan = RegionPlan.for_settings(
        (768, 576), [[(x1, y1), (x2, y1), (x2, y2), (x1, y2)]], demo.detector
    )
    found = session.detect(image, crop_plan.whole_zones())
    assert kept(person[None], found) == KeptShare(1, 1)


def test_a_walker_keeps_one_track_id_over_mapped_back_boxes(
    demo, frames, footage_path, session
) -> None:
    capture = cv2.VideoCapture(str(footage_path))
    images = [capture.read()[1] for _ in range(40)][::2]  # 2 s at 10 fps, every other frame
    capture.release()
    zones = demo.zones_of("quay-cam-1")
    plan = RegionPlan.for_settings((768, 576), [z.polygon for z in zones], demo.detector)
    tracker = ObjectTracker(session.class_names)
    ids_per_frame = [
        set(
            tracker.update(session.detect(image, plan.whole_zones()), (576, 768)).track_ids.tolist()
        )
        for image in images
    ]
    lasting = set.intersection(*ids_per_frame[2:])
    assert lasting, ids_per_frame  # somebody was followed through every frame
    assert max(max(ids) for ids in ids_per_frame if ids) <= 3 * max(
        len(ids) for ids in ids_per_frame
    )


def test_the_shared_session_serves_the_longest_waiting_camera_first(demo, frames, session) -> None:
    zones = demo.zones_of("quay-cam-1")
    plan = RegionPlan.for_settings((768, 576), [z.polygon for z in zones], demo.detector)
    crops = plan.whole_zones()
    shared = SharedModel(session, batch_crops=False)
    # four cameras already waiting when the session starts, queued out of order
    turns = {
        camera: _Turn(camera, [crop_input(frames[i], c) for c in crops], waiting_since=since)
        for i, (camera, since) in enumerate(
            [("cam-c", 3.0), ("cam-a", 1.0), ("cam-d", 4.0), ("cam-b", 2.0)]
        )
    }
    shared._waiting.extend(turns.values())
    shared.start()
    for turn in turns.values():
        assert turn.done.wait(timeout=120)
    shared.stop()
    assert list(shared.served_order) == ["cam-a", "cam-b", "cam-c", "cam-d"]
    for i, camera in enumerate(turns):
        assert turns[camera].error is None
        expected = session.run([crop_input(frames[i], c) for c in crops])
        assert all(
            np.allclose(a, b, atol=1e-3) for a, b in zip(turns[camera].found, expected, strict=True)
        )


def test_cameras_batched_into_one_call_get_their_own_boxes(demo, frames, session) -> None:
    zones = demo.zones_of("quay-cam-1")
    crops = RegionPlan.for_settings(
        (768, 576), [z.polygon for z in zones], demo.detector
    ).whole_zones()
    shared = SharedModel(session, batch_crops=True)
    cameras = MAX_BATCH_CROPS // len(crops)
    assert cameras >= 2
    turns = [_Turn(f"cam-{i}", [crop_input(frames[i], c) for c in crops]) for i in range(cameras)]
    shared._waiting.extend(turns)  # all of them waiting when the model is free
    shared.start()
    for turn in turns:
        assert turn.done.wait(timeout=120)
    shared.stop()
    # one call per crop size for all the cameras together, each camera its own boxes back
    assert shared.calls == len({c.input_size for c in crops})
    for index, turn in enumerate(turns):
        alone = session.run([crop_input(frames[index], c) for c in crops])
        assert all(np.allclose(a, b, atol=1e-3) for a, b in zip(turn.found, alone, strict=True))
    # and a camera asking through its handle gets the same boxes as the session alone
    shared = SharedModel(session).start()
    found = shared.for_camera("cam-0").detect(frames[0], crops)
    shared.stop()
    assert np.allclose(found, session.detect(frames[0], crops), atol=1e-3)
