"""The correlator's catch-up knows, before it judges an access event, every terminal fact
published before that access event: terminal news and access events written in turns, polled
as they come and as a backlog."""

from __future__ import annotations

import time

import pytest

from config.kafka import Kafka
from streams.correlator.loop import Correlator
from streams.terminal.events import ContainerActivity
from tests.fixtures.port_story import (
    STORY_START,
    StoryWriters,
    access_event,
    container_event,
    container_number,
    minutes,
    produce,
    story_site,
)

pytestmark = pytest.mark.integration

ROUNDS = 6
PER_ROUND = 4


def publish_round(writers: StoryWriters, round_number: int) -> None:
    """PER_ROUND discharges, each acknowledged before an access event follows it: the n-th
    access event of the zone (offset n - 1 on its partition) comes after n discharges."""
    for index in range(PER_ROUND):
        serial = round_number * PER_ROUND + index + 1
        at = STORY_START + minutes(serial)
        number = container_number(serial)
        produce(writers, [container_event(number, ContainerActivity.discharged, at, "B0")])
        produce(writers, [access_event("zone-B1", at, f"incident-{serial}", ["B1"])])


def test_terminal_news_published_before_an_access_event_is_known_when_it_is_judged(
    kafka_settings: Kafka,
) -> None:
    correlator = Correlator(story_site(kafka_settings), group_id="catch-up")
    writers = StoryWriters(kafka_settings)
    try:
        correlator.catch_up()
        judged = 0
        for round_number in range(ROUNDS):
            publish_round(writers, round_number)
            if round_number % 2:
                time.sleep(0.5)  # a backlog: several fetches' worth buffered before the poll
            wanted = (round_number + 1) * PER_ROUND
            deadline = time.monotonic() + 60
            while judged < wanted:
                assert time.monotonic() < deadline, f"{judged} of {wanted} access events read"
                records = correlator.access.poll(timeout_ms=200, max_records=3)
                polled = [record for batch in records.values() for record in batch]
                correlator.catch_up()
                judged += len(polled)
                if polled:
                    latest = max(record.offset for record in polled)
                    assert len(correlator.engine.table) >= latest + 1
                correlator.step(records)
        assert len(correlator.engine.table) == ROUNDS * PER_ROUND
    finally:
        writers.close()
        correlator.close()
