"""A recorded demo-like night for the audit tests: real producers, a real correlator, a real broker.

Access events are built directly (not by the model) but go through the worker's spooling
Publisher with real evidence snapshots and clips (each incident's clip named by an update, as
the worker sends it); container events go through the terminal feed's
publishing; a Correlator instance raises the alerts; operator actions go through the console's
publisher. All of it is chained and signed with a key made for the run.
"""

from __future__ import annotations

import os
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from config.correlation import Correlation
from config.kafka import Kafka
from config.signing import WriterRole
from config.site import SiteConfig
from detectors.clips import ClipStore
from detectors.events import AccessPhase
from detectors.evidence import EvidenceStore
from quaywatch.console.actions import ActionPublisher
from streams.access import AccessEvent
from streams.audit.records import LoggedRecord, RecordedLog, TimeRange, read_log
from streams.chain import ChainedProducer
from streams.correlator.engine import alert_id_for
from streams.kafka import producer
from streams.operator_actions import ActionKind, OperatorAction
from streams.publisher import Publisher
from streams.signing import KEY_ENV, generate_key
from streams.terminal.events import ContainerActivity as Did
from streams.terminal.publish import publish_feed_items
from streams.topics import ACCESS, ALERTS, TOPIC_NAMED, create_topics
from tests.fixtures.port_story import (
    LATE,
    STORY_START,
    access_event,
    container_event,
    correlating,
    minutes,
    night_yard,
    story_site,
)

NIGHT = STORY_START
# zone-B3's container was discharged 120 min before the people were seen: outside a 60 min
# fresh-unload window (medium), inside a 180 min one (high). Nothing else depends on it.
RECORDED_WINDOW = Correlation(grace_seconds=120, fresh_unload_minutes=60)
LONGER_WINDOW = Correlation(grace_seconds=120, fresh_unload_minutes=180)
INCIDENTS = {
    "selected": "zone-B0",
    "inspection": "zone-B1",
    "released": "zone-B2",
    "fresh-1": "zone-B3",
    "fresh-2": "zone-B3",
    "late": "zone-B4",
    "old": "zone-B5",
    "empty": "zone-B6",
}
FRESH_INCIDENTS = ("fresh-1", "fresh-2")
# fresh-2 comes back to the fresh container after the quiet gap that ends a zone episode, so
# it is an alert of its own rather than another person in fresh-1's.
COMES_BACK_LATER = {"fresh-2": timedelta(seconds=Correlation().regroup_seconds + 60)}


@dataclass
class RecordedRun:
    kafka: Kafka
    site: SiteConfig
    window: TimeRange
    log: RecordedLog
    key_path: Path
    snapshot_dir: Path
    clip_dir: Path


def site_with(kafka: Kafka, data_dir: Path, correlation: Correlation) -> SiteConfig:
    return story_site(kafka, correlation=correlation).model_copy(update={"data_dir": data_dir})


def people(evidence: EvidenceStore, clips: ClipStore) -> list[AccessEvent]:
    events = []
    for number, (incident, zone) in enumerate(INCIDENTS.items()):
        frame = np.full((48, 64, 3), 30 * number % 255, dtype=np.uint8)
        frame[10:40, 20 + number : 30 + number] = (0, 0, 255)
        snapshot = evidence.keep(frame)
        clip = clips.keep([frame] * 3, fps=1.0)
        seen = NIGHT + timedelta(seconds=number) + COMES_BACK_LATER.get(incident, timedelta())
        blocks = [zone.removeprefix("zone-")] if zone != "zone-B6" else []
        start = access_event(zone, seen, incident, blocks)
        filmed = access_event(
            zone, seen + timedelta(seconds=3), incident, blocks, AccessPhase.update
        )
        end = access_event(zone, seen + timedelta(seconds=40), incident, blocks, AccessPhase.end)
        # Only a start carries a snapshot and only the update a clip; the story's placeholder
        # hash names no file.
        events += [
            start.model_copy(update={"snapshot_sha256": snapshot}),
            filmed.model_copy(update={"snapshot_sha256": None, "clip_sha256": clip}),
            end.model_copy(update={"snapshot_sha256": None}),
        ]
    return events


def wait_for_alerts(kafka: Kafka, wanted: set[tuple[str, int]], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        seen = {
            (alert.alert_id, alert.revision)
            for _, alert in read_log(kafka, [ALERTS]).messages(ALERTS)
        }
        if wanted <= seen:
            return
        time.sleep(0.3)
    raise TimeoutError(f"alerts not published: {sorted(wanted - seen)}")


def record_night(kafka: Kafka, data_dir: Path) -> RecordedRun:
    key_path = data_dir / "keys" / "signing.pem"
    generate_key(key_path)
    os.environ[KEY_ENV] = str(key_path)  # the key `audit export` signs bundles with
    site = site_with(kafka, data_dir, RECORDED_WINDOW)
    snapshot_dir, clip_dir = data_dir / "snapshots", data_dir / "clips"
    started = datetime.now(UTC) - timedelta(seconds=1)
    feed = ChainedProducer(kafka, WriterRole.terminal)
    publish_feed_items(feed, night_yard(), "dcsa")
    publisher = Publisher(kafka, data_dir / "spool", 1 << 24, client_id="worker-audit")
    for event in people(EvidenceStore(snapshot_dir), ClipStore(clip_dir)):
        publisher.publish(ACCESS, event)
    assert publisher.flush(timeout_s=30)
    publisher.close()
    with closing(feed), correlating(site):
        wait_for_alerts(kafka, {(alert_id_for(i), 1) for i in INCIDENTS})
        # Customs news 30 s after the person in zone-B4 was seen: inside the grace period.
        late = container_event(LATE, Did.selected_for_inspection, NIGHT + timedelta(seconds=35))
        publish_feed_items(feed, [late], "dcsa")
        wait_for_alerts(kafka, {(alert_id_for("late"), 2)})
    console = ActionPublisher(kafka)
    for incident, action in (("selected", ActionKind.escalate), ("late", ActionKind.acknowledge)):
        revision = 2 if incident == "late" else 1
        console.publish(
            OperatorAction.create(
                event_id=f"action-{incident}",
                event_time=NIGHT + minutes(3),
                alert_id=alert_id_for(incident),
                alert_revision=revision,
                action=action,
                reason="guards sent" if action is ActionKind.escalate else "seen on camera",
                operator="olga",
                role="operator",
                console_id="console-1",
            )
        )
    console.close()
    del os.environ[KEY_ENV]
    window = TimeRange(started, datetime.now(UTC) + timedelta(seconds=1))
    return RecordedRun(kafka, site, window, read_log(kafka), key_path, snapshot_dir, clip_dir)


def copy_log(broker_bootstrap: str, records: list[LoggedRecord], like: Kafka) -> Kafka:
    """Write `records` as they are (topic, partition, key, value, headers, timestamp) onto
    another broker, under the same topic names as `like`'s, with a plain producer.

    Kafka cannot be edited in place, so a tampered log is made the way an attacker with the
    broker's storage would: the recorded log copied record by record with the change applied,
    onto a broker of its own (the link hashes cover the full topic names, so the copy keeps
    them); offsets in the copy are positions in the list per partition.
    """
    kafka = like.model_copy(update={"bootstrap_servers": [broker_bootstrap]})
    create_topics(kafka)
    client = producer(kafka)
    futures = [
        client.send(
            kafka.topic(TOPIC_NAMED[record.topic]),
            key=record.key,
            value=record.value,
            headers=list(record.headers),
            partition=record.partition,
            timestamp_ms=record.timestamp_ms,
        )
        for record in records
    ]
    client.flush()
    for future in futures:
        future.get(timeout=30)
    client.close()
    return kafka
