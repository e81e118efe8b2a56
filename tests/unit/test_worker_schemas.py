"""The access-event and camera-health JSON Schemas hold for the messages the worker produces."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from config.site import SiteConfig
from config.zones import Line
from detectors.events import TrackedObjects
from detectors.model import ModelIdentity
from detectors.rules import ZoneWatch
from ingest.frames import CameraStatus, HealthObservation
from streams.access import AccessEvent
from streams.camera_health import CameraHealth

SCHEMAS = Path(__file__).resolve().parents[2] / "streams" / "schemas"
T0 = datetime(2026, 3, 14, 1, 0, tzinfo=UTC)
MODEL = ModelIdentity("best_fp16.onnx", "e" * 64, Path("best_fp16.onnx"))


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.v1.json").read_text())


@pytest.fixture
def site() -> SiteConfig:
    square = [(100, 100), (200, 100), (200, 200), (100, 200)]
    return SiteConfig.model_validate(
        {
            "site": {"id": "rtm-test"},
            "cameras": [{"id": "quay-cam-1", "source": "quay.avi"}],
            "zones": [
                {"id": "quay-q3", "camera": "quay-cam-1", "polygon": square, "yard_blocks": ["Q3"]},
                {
                    "id": "gate-lane",
                    "camera": "quay-cam-1",
                    "polygon": square,
                    "line": Line(start=(150, 0), end=(150, 300)).model_dump(),
                    "inertia_frames": 1,
                },
            ],
        }
    )


def produced_access_events(site: SiteConfig) -> list[dict]:
    """A person walks right through both zones; every event becomes a message as published."""
    messages = []
    for zone in site.zones:
        watch = ZoneWatch(zone, "quay-cam-1", site.site.timezone)
        for step, x in enumerate([50, 120, 130, 140, 160, 170, 180, 250, 260, 270]):
            person = TrackedObjects(
                np.array([7]),
                np.array([[x - 10, 90, x + 10, 150.0]]),
                np.array([0.83]),
                ("person",),
            )
            for event in watch.observe(person, T0 + timedelta(seconds=step * 0.2)):
                message = AccessEvent.from_zone_event(
                    event,
                    site_id=site.site.id,
                    zone=zone,
                    model=MODEL,
                    config_hash=site.config_hash(),
                )
                messages.append(json.loads(message.stamped().to_bytes()))
    return messages


def test_produced_access_events_validate_against_the_schema(site):
    messages = produced_access_events(site)
    assert {(m["zone_id"], m["phase"]) for m in messages} == {
        ("quay-q3", "start"),
        ("quay-q3", "end"),
        ("gate-lane", "start"),
        ("gate-lane", "end"),
    }
    for message in messages:
        jsonschema.validate(message, schema("access-event"))
        assert AccessEvent.from_bytes(json.dumps(message).encode()).event_id == message["event_id"]


def test_produced_camera_health_validates_against_the_schema():
    for status in CameraStatus:
        observation = HealthObservation("quay-cam-1", status, T0, "why, for the operator")
        health = CameraHealth.from_observation("rtm-test", observation)
        message = json.loads(health.stamped().to_bytes())
        jsonschema.validate(message, schema("camera-health"))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rule", "tailgating"),
        ("phase", "begin"),
        ("track_id", -1),
        ("score", 1.5),
        ("schema_name", "alert"),
        ("unexpected", 1),
    ],
)
def test_the_access_schema_refuses_what_the_model_refuses(site, field, value):
    body = produced_access_events(site)[0]
    body[field] = value
    assert list(jsonschema.Draft202012Validator(schema("access-event")).iter_errors(body))


@pytest.mark.parametrize(
    ("model", "name"), [(AccessEvent, "access-event"), (CameraHealth, "camera-health")]
)
def test_schema_files_describe_the_models(model, name):
    written = schema(name)
    generated = model.model_json_schema()
    assert written["properties"].keys() == generated["properties"].keys()
    assert set(written["required"]) == set(generated["required"])
    assert written["properties"]["schema_name"]["const"] == model.SCHEMA_NAME
    assert written["properties"]["schema_version"]["const"] == model.SCHEMA_VERSION


def test_replaying_the_same_walk_gives_the_same_event_ids(site):
    first = [m["event_id"] for m in produced_access_events(site)]
    assert first == [m["event_id"] for m in produced_access_events(site)]
