"""A correlator that crashes after publishing, before committing, repeats no dead letter: the
next instance finds them on the topic. A rejected terminal record, which every instance reads,
is dead-lettered once, not once per instance and restart."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import pytest
from kafka import KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from config.kafka import Kafka
from streams.correlator.engine import alert_id_for
from streams.correlator.loop import DEAD_LETTER_SOURCE, Correlator
from streams.dead_letter import DeadLetter
from streams.reader import TopicReader
from streams.topics import ACCESS, ALERTS, DEAD_LETTER, TERMINAL
from tests.fixtures.port_story import (
    STORY_START,
    StoryWriters,
    access_event,
    correlating,
    night_yard,
    produce,
    story_site,
)

pytestmark = pytest.mark.integration


class CrashesBeforeCommitting(Correlator):
    """A correlator whose process dies after the broker acknowledged what it published, before
    it committed the offsets of what it read."""

    def commit(self, records: Mapping[TopicPartition, Sequence[ConsumerRecord]]) -> None:
        pass


def forge(kafka: Kafka) -> None:
    """An access record and a terminal record written with a plain producer: no chain."""
    producer = KafkaProducer(bootstrap_servers=list(kafka.bootstrap_servers))
    producer.send(kafka.topic(ACCESS), key=b"zone-B0", value=b'{"forged": "access"}')
    producer.send(kafka.topic(TERMINAL), key=b"QWTU0000013", value=b'{"forged": "terminal"}')
    producer.flush()
    producer.close()


def correlator_letters(kafka: Kafka) -> list[DeadLetter]:
    reader = TopicReader(kafka, [DEAD_LETTER]).wait_for_partitions()
    try:
        letters = [DEAD_LETTER.decode(r.record.value) for r in reader.read_new()]
    finally:
        reader.close()
    return [letter for letter in letters if letter.source == DEAD_LETTER_SOURCE]


def access_read(correlator: Correlator) -> float:
    return correlator.metrics.events_consumed.labels(ACCESS.name)._value.get()


def run_through(correlator: Correlator, alert_id: str, timeout_s: float = 60) -> None:
    """Turn the loop until both access records were read and `alert_id` was published."""
    deadline = time.monotonic() + timeout_s
    correlator.catch_up()
    while time.monotonic() < deadline:
        correlator.step(correlator.access.poll(timeout_ms=200, max_records=1000))
        if access_read(correlator) >= 2 and alert_id in correlator.engine.open_episodes:
            return
    raise AssertionError(f"access events or alert {alert_id} not through in {timeout_s:g} s")


def test_no_dead_letter_is_sent_twice_after_a_crash_or_by_two_instances(
    kafka_settings: Kafka,
) -> None:
    site = story_site(kafka_settings)
    writers = StoryWriters(kafka_settings)
    produce(writers, night_yard())
    forge(kafka_settings)
    produce(writers, [access_event("zone-B0", STORY_START, "after-forgeries", ["B0"])])
    writers.close()
    alert_id = alert_id_for("after-forgeries")

    crashed = CrashesBeforeCommitting(site, group_id=f"{kafka_settings.topic_prefix}correlator")
    run_through(crashed, alert_id)
    crashed.close()
    assert len(correlator_letters(kafka_settings)) == 2

    # Nothing was committed: the next instances read both access records again, and the
    # forged terminal record, as every instance does.
    with correlating(site) as one, correlating(site) as other:
        deadline = time.monotonic() + 60
        while access_read(one) + access_read(other) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # several loop turns after reading them
    letters = correlator_letters(kafka_settings)
    assert sorted(letter.location.split("@")[0].rsplit("/", 1)[0] for letter in letters) == sorted(
        [kafka_settings.topic(ACCESS), kafka_settings.topic(TERMINAL)]
    )
    alerts_reader = TopicReader(kafka_settings, [ALERTS]).wait_for_partitions()
    try:
        revisions = [ALERTS.decode(r.record.value) for r in alerts_reader.read_new()]
    finally:
        alerts_reader.close()
    assert [(a.alert_id, a.revision) for a in revisions] == [(alert_id, 1)]
