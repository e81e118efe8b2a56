"""Port stories made up for tests, benches and demos: a site, its events, on and off Kafka."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from kafka import KafkaProducer
from stdnum import iso6346

from config.site import Camera, Correlation, Kafka, SiteConfig, SiteInfo, Zone
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


def port_night(
    seed: int, containers: int, incidents: int, blocks: int = 6, grace_seconds: float = 120
) -> list[ContainerEvent | AccessEvent]:
    """A night at the terminal in event-time order: discharges, customs selections and
    inspections, some reported late within the grace period, and people seen in zones
    `zone-B<n>` (yard block `B<n>`), each incident as start, update and end."""
    import random

    rng = random.Random(seed)
    events: list[tuple[datetime, int, ContainerEvent | AccessEvent]] = []

    def add(event: ContainerEvent | AccessEvent) -> None:
        known = getattr(event, "recorded_at", event.event_time)
        events.append((max(event.event_time, known), len(events), event))

    night_seconds = 6 * 3600
    for serial in range(containers):
        number = container_number(serial)
        block = f"B{serial % blocks}"
        discharged_at = STORY_START + timedelta(seconds=rng.uniform(-8 * 3600, night_seconds))
        add(container_event(number, ContainerActivity.discharged, discharged_at, block))
        if rng.random() < 0.3:
            selected = discharged_at + timedelta(seconds=rng.uniform(60, 3 * 3600))
            late = timedelta(seconds=rng.choice([0, 0, 30, 90, 400]))
            add(
                container_event(
                    number,
                    ContainerActivity.selected_for_inspection,
                    selected,
                    recorded_at=selected + late,
                )
            )
            if rng.random() < 0.6:
                opened = selected + timedelta(seconds=rng.uniform(600, 3 * 3600))
                add(container_event(number, ContainerActivity.seal_removed, opened))
                add(container_event(number, ContainerActivity.resealed, opened + minutes(40)))
                add(container_event(number, ContainerActivity.released, opened + minutes(50)))
    for incident in range(incidents):
        block = rng.randrange(blocks + 1)  # the last one is a zone without containers
        zone = f"zone-B{block}"
        seen = STORY_START + timedelta(seconds=rng.uniform(0, night_seconds))
        incident_id = f"night-{seed}-{incident}"
        yard = [f"B{block}"] if block < blocks else []
        for offset, phase in (
            (0, AccessPhase.start),
            (20, AccessPhase.update),
            (45, AccessPhase.end),
        ):
            add(access_event(zone, seen + timedelta(seconds=offset), incident_id, yard, phase))
    events.sort(key=lambda item: (item[0], item[1]))
    return [event for _, _, event in events]


def story_site(kafka: Kafka, blocks: int = 6, correlation: Correlation | None = None) -> SiteConfig:
    """A site whose zones zone-B<n> cover yard blocks B<n>, plus zone-B<blocks> with none."""
    zones = [
        Zone(
            id=f"zone-B{n}",
            camera="cam-quay",
            polygon=[(0, 0), (100, 0), (0, 100)],
            yard_blocks=[f"B{n}"] if n < blocks else [],
        )
        for n in range(blocks + 1)
    ]
    return SiteConfig(
        site=SiteInfo(id="story"),
        cameras=[Camera(id="cam-quay", source="story.avi")],
        zones=zones,
        kafka=kafka,
        correlation=correlation or Correlation(),
    )


def produce(
    producer: KafkaProducer, kafka: Kafka, events: list[ContainerEvent | AccessEvent]
) -> None:
    """Put events on `terminal` and `access` in the given order and wait for the broker."""
    futures = []
    for event in events:
        if isinstance(event, ContainerEvent):
            topic, key = "terminal", event.container_number
        else:
            topic, key = "access", event.zone_id
        stamped = event.stamped()
        futures.append(
            producer.send(
                kafka.topic(topic),
                key=key.encode(),
                value=stamped.to_bytes(),
                headers=stamped.headers(),
            )
        )
    producer.flush()
    for future in futures:
        future.get(timeout=30)
