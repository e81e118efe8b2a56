"""Where region inference runs the model: crops where zones meet motion, merged, tiled, at the
stride; boxes mapped back to the frame and duplicates across crop seams suppressed."""

from __future__ import annotations

import numpy as np

from detectors.regions import Crop, RegionPlan, merge_boxes, suppress_across_seams, tile_box

FRAME = (768, 576)
LANE = [(100, 300), (300, 300), (300, 400), (100, 400)]  # bbox 100..300 x 300..400
CORNER = [(600, 50), (700, 50), (700, 100), (600, 100)]


def plan(**overrides) -> RegionPlan:
    settings = {"padding": 16, "reach": 64, "tile": 384, "scale": 1.0} | overrides
    return RegionPlan(FRAME, [LANE, CORNER], **settings)


def covers(crops: list[Crop], box: tuple[int, int, int, int]) -> bool:
    """Whether every pixel of box lies in some crop."""
    mask = np.zeros(FRAME[::-1], dtype=bool)
    for crop in crops:
        x1, y1, x2, y2 = crop.box
        mask[y1:y2, x1:x2] = True
    x1, y1, x2, y2 = box
    return bool(mask[y1:y2, x1:x2].all())


def test_motion_in_a_zone_gives_one_crop_around_it_at_the_stride_within_the_frame() -> None:
    crops = plan().crops([(150, 280, 190, 380)])  # a walker, head above the zone's top
    assert len(crops) == 1
    (crop,) = crops
    x1, y1, x2, y2 = crop.box
    assert (x2 - x1) % 32 == 0 and (y2 - y1) % 32 == 0
    assert crop.input_size == (y2 - y1, x2 - x1)
    assert covers(crops, (134, 264, 206, 396))  # the walker, padded by 16
    assert min(x1, y1) >= 0 and x2 <= FRAME[0] and y2 <= FRAME[1]


def test_motion_away_from_every_zone_runs_no_model() -> None:
    assert plan().crops([(400, 480, 460, 560), (10, 10, 40, 40)]) == []


def test_motion_is_clipped_to_the_zone_area_it_meets() -> None:
    # A region spanning the frame's width (a passing truck, a light change) is cut to the
    # zones' areas: the lane padded, and reaching 64 px above its top; and the corner.
    crops = plan().crops([(0, 0, 768, 576)])
    assert covers(crops, (84, 220, 316, 416))
    assert covers(crops, (584, 0, 716, 116))
    assert sum(c.input_size[0] * c.input_size[1] for c in crops) < 0.3 * FRAME[0] * FRAME[1]


def test_overlapping_crops_merge_and_far_apart_ones_do_not() -> None:
    assert merge_boxes([(0, 0, 100, 100), (50, 0, 150, 100)]) == [(0, 0, 150, 100)]
    far = [(0, 0, 50, 50), (300, 300, 350, 350)]
    assert sorted(merge_boxes(far)) == far
    # overlapping but the union would cost more pixels than the two: kept apart
    cross = [(0, 40, 200, 60), (90, 0, 110, 200)]
    assert sorted(merge_boxes(cross)) == sorted(cross)


def test_a_large_crop_is_tiled_with_overlap_covering_it_all() -> None:
    tiles = tile_box((0, 0, 700, 300), tile=256, overlap=32)
    assert all(x2 - x1 <= 256 and y2 - y1 <= 256 for x1, y1, x2, y2 in tiles)
    assert len(tiles) == 3 * 2
    xs = sorted({(x1, x2) for x1, _, x2, _ in tiles})
    assert xs[0][0] == 0 and xs[-1][1] == 700
    assert all(a[1] - b[0] >= 32 for a, b in zip(xs, xs[1:], strict=False))  # overlap
    crops = plan(tile=128).whole_zones()
    assert all(max(c.input_size) <= 128 for c in crops)
    assert covers(crops, (84, 220, 316, 416))


def test_whole_zones_cover_every_zone_and_its_reach() -> None:
    crops = plan().whole_zones()
    assert covers(crops, (84, 220, 316, 416)) and covers(crops, (584, 0, 716, 116))


def test_a_scaled_crop_feeds_fewer_pixels_and_maps_boxes_back() -> None:
    full = plan().crops([(150, 280, 190, 380)])[0]
    half = plan(scale=0.5).crops([(150, 280, 190, 380)])[0]
    assert half.input_size[0] * half.input_size[1] < full.input_size[0] * full.input_size[1]
    mapped = half.to_frame(np.array([[10.0, 20.0, 30.0, 60.0, 0.9, 0.0]]))
    x1, y1 = half.box[:2]
    assert mapped.tolist() == [[x1 + 20, y1 + 40, x1 + 60, y1 + 120, np.float32(0.9), 0.0]]


def test_a_person_found_in_two_overlapping_crops_is_one_box() -> None:
    whole = np.array([[100, 100, 140, 200, 0.9, 0]], np.float32)
    cut_by_seam = np.array([[100, 100, 140, 160, 0.6, 0]], np.float32)  # inside the other
    neighbour = np.array([[300, 100, 340, 200, 0.8, 0]], np.float32)
    kept = suppress_across_seams([whole, np.concatenate([cut_by_seam, neighbour])])
    assert kept.tolist() == np.concatenate([whole, neighbour]).tolist()


def test_two_people_close_together_in_one_crop_are_both_kept() -> None:
    # one crop's own NMS already chose these: overlapping people, neither inside the other
    pair = np.array([[100, 100, 140, 200, 0.9, 0], [118, 104, 160, 206, 0.7, 0]], np.float32)
    assert suppress_across_seams([pair]).tolist() == pair.tolist()
    assert suppress_across_seams([]).shape == (0, 6)


def test_a_person_boxed_twice_in_one_crop_is_one_box() -> None:
    # the whole body and, inside it, most of it again (IoU 0.67): one person
    twice = np.array([[624, 289, 689, 427, 0.8, 0], [627, 300, 681, 412, 0.6, 0]], np.float32)
    assert suppress_across_seams([twice]).tolist() == twice[:1].tolist()
