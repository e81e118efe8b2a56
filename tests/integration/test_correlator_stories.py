"""The port's stories through a real correlator on the embedded broker, with late news."""

from __future__ import annotations

import json
import time
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest

from config.correlation import Correlation
from config.kafka import Kafka
from streams.alerts import Alert, Severity
from streams.correlator.engine import alert_id_for
from streams.reader import TopicReader
from streams.terminal.events import ContainerActivity as Did
from streams.topics import ALERTS
from tests.fixtures.port_story import (
    LATE,
    OLD,
    STORY_START,
    StoryWriters,
    access_event,
    container_event,
    correlating,
    night_yard,
    produce,
    story_site,
)

pytestmark = pytest.mark.integration

SCHEMAS = Path(__file__).resolve().parents[2] / "streams" / "schemas"
NIGHT = STORY_START


def read_alerts(kafka: Kafka, expected_ids: set[str], timeout_s: float = 30) -> list[Alert]:
    """Every alert revision on the topic, once all expected alert ids have appeared."""
    reader = TopicReader(kafka, [ALERTS]).wait_for_partitions()
    alerts: list[Alert] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        alerts += [received.message() for received in reader.poll(timeout_ms=200)]
        if expected_ids <= {a.alert_id for a in alerts}:
            break
    reader.close()
    return alerts


def last_revisions(alerts: list[Alert]) -> dict[str, Alert]:
    latest: dict[str, Alert] = {}
    for alert in alerts:
        if alert.revision >= latest.get(alert.alert_id, alert).revision:
            latest[alert.alert_id] = alert
    return latest


def test_port_night_stories_end_in_the_right_alerts(kafka_settings: Kafka) -> None:
    site = story_site(kafka_settings, correlation=Correlation(grace_seconds=120))
    people = {
        "selected": access_event("zone-B0", NIGHT, "selected", ["B0"]),
        "inspection": access_event("zone-B1", NIGHT, "inspection", ["B1"]),
        "released": access_event("zone-B2", NIGHT, "released", ["B2"]),
        "fresh": access_event("zone-B3", NIGHT, "fresh", ["B3"]),
        "late": access_event("zone-B4", NIGHT, "late", ["B4"]),
        "too-late": access_event("zone-B5", NIGHT, "too-late", ["B5"]),
        "no-containers": access_event("zone-B6", NIGHT, "no-containers", []),
    }
    client = StoryWriters(kafka_settings)
    produce(client, night_yard() + list(people.values()))
    with closing(client), correlating(site):
        first = read_alerts(kafka_settings, {alert_id_for(i) for i in people})
        # Customs news about the two quiet blocks, reported after the person was seen:
        # 30 s later (inside the 120 s grace period) and 200 s later (outside it).
        produce(
            client,
            [
                container_event(LATE, Did.selected_for_inspection, NIGHT + timedelta(seconds=30)),
                container_event(OLD, Did.selected_for_inspection, NIGHT + timedelta(seconds=200)),
            ],
        )
        time.sleep(2)  # several loop turns
        alerts = read_alerts(kafka_settings, {alert_id_for(i) for i in people})

    latest = last_revisions(alerts)
    severity = {incident: latest[alert_id_for(incident)].severity for incident in people}
    assert severity == {
        "selected": Severity.critical,
        "inspection": Severity.suppressed,
        "released": Severity.medium,
        "fresh": Severity.high,
        "late": Severity.critical,
        "too-late": Severity.medium,
        "no-containers": Severity.medium,
    }
    late = [a for a in alerts if a.alert_id == alert_id_for("late")]
    assert [(a.revision, a.severity) for a in late] == [
        (1, Severity.medium),
        (2, Severity.critical),
    ]
    assert latest[alert_id_for("too-late")].revision == 1
    assert len(first) == len(people)  # all raised at once, before the late news
    assert all(a.published_at is not None for a in alerts)
    schema = json.loads((SCHEMAS / "alert.v1.json").read_text())
    for alert in alerts:
        jsonschema.validate(json.loads(alert.to_bytes()), schema)
