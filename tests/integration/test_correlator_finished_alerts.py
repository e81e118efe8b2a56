"""A correlator that starts over weeks of alerts rebuilds, and judges again, only the recent
ones: an alert last seen more than `rebuild_hours` before the latest terminal news is finished,
whatever the yard looks like now, as it is after a restart from a checkpoint."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from config.correlation import Correlation
from config.kafka import Kafka
from config.signing import WriterRole
from streams.alerts import Alert, Severity
from streams.chain import ChainedProducer
from streams.correlator.engine import alert_id_for
from streams.correlator.loop import Correlator
from streams.reader import TopicReader
from streams.terminal.events import ContainerActivity
from streams.topics import ALERTS
from tests.fixtures.port_story import (
    STORY_START,
    StoryWriters,
    container_event,
    container_number,
    produce,
    story_site,
)

pytestmark = pytest.mark.integration

CORRELATION = Correlation(grace_seconds=120, rebuild_hours=24, quiet_partition_seconds=0.5)


def published(kafka: Kafka, incident: str, seen: datetime, config_hash: str) -> Alert:
    """Revision 1 as a correlator published it, saying the zone's block held no container:
    judged again against the yard below, it is out of date."""
    alert_id = alert_id_for(incident)
    return Alert.create(
        event_id=f"{alert_id}:r1",
        event_time=seen,
        alert_id=alert_id,
        revision=1,
        severity=Severity.medium,
        reason="person in zone zone-B0: restricted zone; no containers in its yard blocks",
        revised_because=None,
        as_of=seen,
        site_id="story",
        zone_id="zone-B0",
        camera_id="cam-quay",
        yard_blocks=["B0"],
        incident_id=incident,
        access_event_ids=[f"{incident}:start"],
        rules=["intrusion"],
        last_seen_at=seen,
        containers=[],
        containers_in_zone=0,
        snapshot_sha256="0" * 64,
        access_config_hash="2" * 64,
        config_hash=config_hash,
    )


def revisions(kafka: Kafka) -> set[tuple[str, int]]:
    reader = TopicReader(kafka, [ALERTS]).wait_for_partitions()
    try:
        return {(r.message().alert_id, r.message().revision) for r in reader.read_new()}
    finally:
        reader.close()


def test_only_the_alerts_of_the_last_rebuild_hours_are_judged_again_at_start_up(
    kafka_settings: Kafka,
) -> None:
    site = story_site(kafka_settings, 1, CORRELATION)
    number = container_number(1)
    writers = StoryWriters(kafka_settings)
    try:
        # A container stands in B0 for the whole week; the latest news is at STORY_START.
        produce(
            writers,
            [
                container_event(
                    number, ContainerActivity.discharged, STORY_START - timedelta(days=7), "B0"
                ),
                container_event(
                    container_number(2), ContainerActivity.discharged, STORY_START, "B1"
                ),
            ],
        )
    finally:
        writers.close()
    finished = published(
        kafka_settings, "days-ago", STORY_START - timedelta(days=3), site.config_hash()
    )
    recent = published(
        kafka_settings, "an-hour-ago", STORY_START - timedelta(hours=1), site.config_hash()
    )
    producer = ChainedProducer(kafka_settings, WriterRole.correlator)
    try:
        for alert in (finished, recent):
            producer.send(ALERTS, alert.stamped()).get(timeout=30)
    finally:
        producer.close()

    correlator = Correlator(site, group_id="finished")
    try:
        deadline = time.monotonic() + 60
        # Both are judged in one turn, if at all: the recent one's revision shows it was.
        while (recent.alert_id, 2) not in revisions(kafka_settings):
            assert time.monotonic() < deadline, "the recent alert was not judged again in 60 s"
            correlator.step(correlator.poll())
        correlator.step(correlator.poll())
    finally:
        correlator.close()

    assert revisions(kafka_settings) == {
        (finished.alert_id, 1),
        (recent.alert_id, 1),
        (recent.alert_id, 2),
    }
