"""A correlator that starts over weeks of alerts rebuilds, and judges again, only the recent
ones: an alert last seen more than `rebuild_hours` before the latest terminal news is finished,
whatever the yard looks like now, as it is after a restart from a checkpoint."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from config.correlation import Correlation
from config.kafka import Kafka
from config.signing import WriterRole
from streams.chain import ChainedProducer
from streams.correlator.loop import Correlator
from streams.reader import TopicReader
from streams.terminal.events import ContainerActivity
from streams.topics import ALERTS
from tests.fixtures.port_story import (
    STORY_START,
    StoryWriters,
    container_event,
    container_number,
    first_revision,
    produce,
    story_site,
)

pytestmark = pytest.mark.integration

CORRELATION = Correlation(grace_seconds=120, rebuild_hours=24, quiet_partition_seconds=0.5)


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
    # Both say the zone held no container at risk: judged again against B0, both would change.
    finished = first_revision("days-ago", 0, STORY_START - timedelta(days=3), site.config_hash())
    recent = first_revision("an-hour-ago", 0, STORY_START - timedelta(hours=1), site.config_hash())
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
