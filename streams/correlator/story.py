"""Builders for port stories: access and container events made up for tests, benches and demos."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from stdnum import iso6346

from streams.access import AccessEvent, AccessPhase, AccessRule, BoundingBox
from streams.terminal.events import Classifier, ContainerActivity, ContainerEvent, FeedSource

STORY_START = datetime.fromisoformat("2024-03-04T02:00:00+00:00")


def container_number(serial: int, owner: str = "QWT") -> str:
    """A valid ISO 6346 number for a made-up container, e.g. container_number(1) -> QWTU0000013."""
    body = f"{owner}U{serial:06d}"
    return body + iso6346.calc_check_digit(body)


def container_event(
    number: str,
    activity: ContainerActivity,
    at: datetime,
    yard_block: str | None = None,
    recorded_at: datetime | None = None,
    classifier: Classifier = Classifier.actual,
) -> ContainerEvent:
    recorded = recorded_at or at
    source_id = hashlib.sha256(f"{number}|{activity}|{at.isoformat()}|{recorded}".encode())
    return ContainerEvent.create(
        event_id=f"story:{source_id.hexdigest()[:32]}",
        event_time=at,
        recorded_at=recorded,
        container_number=number,
        activity=activity,
        classifier=classifier,
        source=FeedSource.dcsa_v3,
        source_event_id=source_id.hexdigest()[:32],
        yard_position=f"{yard_block}-01-01-1" if yard_block else None,
        yard_block=yard_block,
    )


def access_event(
    zone_id: str,
    at: datetime,
    incident_id: str,
    yard_blocks: list[str] | None = None,
    phase: AccessPhase = AccessPhase.start,
    camera_id: str = "cam-quay",
) -> AccessEvent:
    return AccessEvent.create(
        event_id=f"{incident_id}:{phase}:{at.isoformat()}",
        event_time=at,
        site_id="story",
        camera_id=camera_id,
        zone_id=zone_id,
        yard_blocks=yard_blocks or [],
        rule=AccessRule.intrusion,
        phase=phase,
        incident_id=incident_id,
        track_id=1,
        object_class="person",
        score=0.9,
        box=BoundingBox(x1=10, y1=10, x2=50, y2=120),
        snapshot_sha256="0" * 64,
        model_name="best_fp16.onnx",
        model_sha256="1" * 64,
        config_hash="2" * 64,
    )


def minutes(count: float) -> timedelta:
    return timedelta(minutes=count)
