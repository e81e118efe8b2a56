"""The console's clip, live-view, yard and operator routes: behind the login, only the
site's own files, and the shapes the page reads."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from config.zones import Zone
from quaywatch.console.app import ConsoleParts
from quaywatch.console.auth import SESSION_COOKIE
from streams.terminal.events import Classifier, ContainerActivity, ContainerEvent, FeedSource
from streams.worker.live import live_frame_path
from tests.unit.test_console_routes import (  # noqa: F401 - fixtures
    SECRET,
    client,
    clock,
    parts,
    session_cookie,
)

CLIP = b"\x1aE\xdf\xa3 a webm clip"
CLIP_SHA = hashlib.sha256(CLIP).hexdigest()


@pytest.fixture
def operator(client: TestClient) -> dict[str, str]:  # noqa: F811
    return {SESSION_COOKIE: session_cookie(client, "operator")}


def test_a_stored_clip_is_served_as_webm(
    client: TestClient,  # noqa: F811
    parts: ConsoleParts,  # noqa: F811
    operator: dict[str, str],
) -> None:
    clips = parts.site.data_dir / "clips"
    clips.mkdir()
    (clips / f"{CLIP_SHA}.webm").write_bytes(CLIP)
    response = client.get(f"/clips/{CLIP_SHA}.webm", cookies=operator)
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/webm"
    assert response.content == CLIP
    assert client.get(f"/clips/{CLIP_SHA}.webm").status_code == 401
    ranged = client.get(f"/clips/{CLIP_SHA}.webm", cookies=operator, headers={"range": "bytes=0-3"})
    assert (ranged.status_code, ranged.content) == (206, CLIP[:4])


@pytest.mark.parametrize(
    "path",
    ["/clips/..%2Fsecret.txt", "/clips/" + "0" * 64, "/live/..%2Fsecret.txt", "/live/other.jpg"],
)
def test_what_is_not_a_stored_clip_or_a_camera_of_the_site_is_refused(
    client: TestClient,  # noqa: F811
    operator: dict[str, str],
    path: str,
) -> None:
    response = client.get(path, cookies=operator)
    assert response.status_code in (400, 404), f"{path}: {response.status_code}"
    assert SECRET not in response.text


def test_the_live_view_lists_each_camera_with_a_frame_and_serves_it(
    client: TestClient,  # noqa: F811
    parts: ConsoleParts,  # noqa: F811
    operator: dict[str, str],
) -> None:
    assert client.get("/api/live", cookies=operator).json() == []
    assert client.get("/live/cam.jpg", cookies=operator).status_code == 404
    frame = live_frame_path(parts.site.data_dir, "cam")
    frame.parent.mkdir()
    frame.write_bytes(b"\xff\xd8 frame \xff\xd9")
    (listed,) = client.get("/api/live", cookies=operator).json()
    written = datetime.fromtimestamp(frame.stat().st_mtime, UTC)
    assert listed == {
        "camera_id": "cam",
        "written_at": written.isoformat(),
        "url": f"/live/cam.jpg?v={int(frame.stat().st_mtime * 1000)}",
    }
    served = client.get(listed["url"], cookies=operator)
    assert served.content == b"\xff\xd8 frame \xff\xd9"
    assert served.headers["cache-control"] == "no-store"


def test_the_yard_map_places_containers_in_their_zones_with_their_condition(
    client: TestClient,  # noqa: F811
    parts: ConsoleParts,  # noqa: F811
    operator: dict[str, str],
) -> None:
    parts.site = parts.site.model_copy(
        update={
            "zones": [
                Zone(
                    id="quay-q3",
                    camera="cam",
                    polygon=[(0, 0), (10, 0), (10, 10)],
                    yard_blocks=["Q3"],
                )
            ]
        }
    )
    at = datetime(2026, 3, 14, 0, 10, tzinfo=UTC)
    for number, activity, minutes in (
        ("MSCU1234565", ContainerActivity.discharged, 0),
        ("MSCU1234565", ContainerActivity.selected_for_inspection, 20),
    ):
        parts.board.apply_container(
            ContainerEvent.create(
                event_id=f"{number}-{activity}",
                event_time=at.replace(minute=10 + minutes),
                container_number=number,
                activity=activity,
                classifier=Classifier.actual,
                recorded_at=at.replace(minute=10 + minutes),
                source=FeedSource.dcsa_v3,
                source_event_id=f"{number}-{activity}",
                yard_position="Q3-01-01-1",
                yard_block="Q3",
            )
        )
    (zone,) = client.get("/api/yard", cookies=operator).json()
    assert zone == {
        "zone_id": "quay-q3",
        "camera_id": "cam",
        "polygon": [[0, 0], [10, 0], [10, 10]],
        "yard_blocks": ["Q3"],
        "containers": [
            {
                "container_number": "MSCU1234565",
                "yard_block": "Q3",
                "yard_position": "Q3-01-01-1",
                "condition": "selected_not_inspected",
            }
        ],
        "worst": "selected_not_inspected",
    }


def test_operators_are_offered_for_assignment_and_no_one_else(
    client: TestClient,  # noqa: F811
    operator: dict[str, str],
) -> None:
    assert client.get("/api/operators", cookies=operator).json() == [{"name": "operator"}]
