"""A correlator asked to stop first correlates what its access partitions hold by then, such as
the ends a camera sent as it stopped: an audit replay of the log judges nothing the live
correlator had not read."""

from __future__ import annotations

import json
import threading
import time

import pytest

from config.kafka import Kafka
from streams.correlator.engine import alert_id_for
from streams.correlator.loop import Correlator
from streams.kafka import consumer
from streams.topics import ALERTS
from tests.fixtures.port_story import (
    STORY_START,
    StoryWriters,
    access_event,
    minutes,
    produce,
    story_site,
)

pytestmark = pytest.mark.integration

INCIDENTS = 40
BLOCKS = 6


def published_alert_ids(kafka: Kafka) -> set[str]:
    reader = consumer(kafka, None, [ALERTS], consumer_timeout_ms=2000)
    try:
        return {json.loads(record.value)["alert_id"] for record in reader}
    finally:
        reader.close()


def test_asked_to_stop_it_correlates_what_its_partitions_hold_first(kafka_settings: Kafka) -> None:
    correlator = Correlator(story_site(kafka_settings, BLOCKS), group_id="drain")
    writers = StoryWriters(kafka_settings)
    try:
        correlator.catch_up()
        deadline = time.monotonic() + 60
        while not correlator.ownership.owned:  # joined the group, every partition its own
            assert time.monotonic() < deadline, "no access partitions assigned in 60 s"
            correlator.step(correlator.poll())
        incidents = [f"incident-{n}" for n in range(INCIDENTS)]
        produce(
            writers,
            [
                access_event(f"zone-B{n % BLOCKS}", STORY_START + minutes(90 * n), incident)
                for n, incident in enumerate(incidents)
            ],
        )
        stop = threading.Event()
        stop.set()  # before it polled again: all it correlates, it reads while stopping

        correlator.run(stop)

        assert published_alert_ids(kafka_settings) == {alert_id_for(i) for i in incidents}
    finally:
        writers.close()
        correlator.close()
