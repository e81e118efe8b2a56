"""Terminal feeds into the correlator's input: container events on `terminal`, every reject on
`dead-letter` with its reason and raw text, by file, stdin and DCSA callback."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from config.kafka import Kafka
from config.signing import WriterRole
from streams.chain import ChainedProducer
from streams.reader import TopicReader
from streams.terminal.coarri import read_coarri
from streams.terminal.dcsa import read_dcsa
from streams.terminal.events import ContainerEvent, Rejected
from streams.terminal.publish import publish_feed_items
from streams.topics import DEAD_LETTER, TERMINAL, Topic
from tests.fixtures.port_story import story_site
from tests.integration.dcsa_callbacks import start_callback_endpoint
from tests.unit.test_terminal_adapters import COARRI, dcsa3, dcsa_discharge
from tests.unit.test_terminal_malformed import damaged_coarri, damaged_dcsa_event

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "streams" / "schemas"


def read_topic(kafka: Kafka, topic: Topic[Any], count: int, timeout_s: float = 20) -> list[bytes]:
    reader = TopicReader(kafka, [topic]).wait_for_partitions()
    values: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    while len(values) < count and time.monotonic() < deadline:
        values += [received.record.value for received in reader.poll(timeout_ms=200)]
    reader.close()
    return values


def validator(topic: Topic[Any]):
    import jsonschema

    message = topic.message_type
    schema = SCHEMAS / f"{message.SCHEMA_NAME}.v{message.SCHEMA_VERSION}.json"
    return jsonschema.Draft202012Validator(json.loads(schema.read_text()))


def test_ingest_command_puts_events_on_terminal_and_rejects_on_dead_letter(
    kafka_settings: Kafka, tmp_path: Path
) -> None:
    config = tmp_path / "site.yaml"
    config.write_text(yaml.safe_dump(story_site(kafka_settings).model_dump(mode="json")))
    feed = tmp_path / "events.json"
    feed.write_text(json.dumps([dcsa_discharge(), dcsa_discharge(equipmentReference="X1")]))
    command = [sys.executable, "-m", "quaywatch", "terminal", "ingest", "--config", str(config)]
    dcsa = subprocess.run([*command, "--format", "dcsa", str(feed)], cwd=REPO, capture_output=True)
    coarri = subprocess.run(
        [*command, "--format", "coarri", "-"], cwd=REPO, input=COARRI.encode(), capture_output=True
    )
    assert dcsa.returncode == 0 and coarri.returncode == 0, dcsa.stderr + coarri.stderr
    assert b"1 container events, 1 rejected" in dcsa.stdout
    assert b"2 container events, 1 rejected" in coarri.stdout
    events = [TERMINAL.decode(v) for v in read_topic(kafka_settings, TERMINAL, 3)]
    assert sorted(e.container_number for e in events) == ["CSQU3054383"] * 2 + ["TOLU4734787"]
    letters = [DEAD_LETTER.decode(v) for v in read_topic(kafka_settings, DEAD_LETTER, 2)]
    assert sorted(d.source for d in letters) == ["coarri", "dcsa"]
    for value in read_topic(kafka_settings, TERMINAL, 3):
        validator(TERMINAL).validate(json.loads(value))
    for value in read_topic(kafka_settings, DEAD_LETTER, 2):
        validator(DEAD_LETTER).validate(json.loads(value))


def test_dcsa_callback_answers_after_the_broker_has_the_events(
    kafka_settings: Kafka, tmp_path: Path
) -> None:
    endpoint = start_callback_endpoint(tmp_path, kafka_settings)
    try:
        body = json.dumps([dcsa3("CUSI"), {"metadata": {}, "payload": {}}]).encode()
        answer = endpoint.post_signed(body)
    finally:
        endpoint.process.stop()
    assert answer.status == 200, answer.body
    answer = answer.json()
    assert answer == {"accepted": 1, "rejected": 1}
    [event] = [TERMINAL.decode(v) for v in read_topic(kafka_settings, TERMINAL, 1)]
    assert event.activity == "selected_for_inspection"
    [letter] = [DEAD_LETTER.decode(v) for v in read_topic(kafka_settings, DEAD_LETTER, 1)]
    assert "required" in letter.reason and letter.raw


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(dcsa_events=damaged_dcsa_event().map(lambda e: [e, dcsa_discharge()]), edi=damaged_coarri())
def test_generated_malformed_feeds_reach_dead_letter_each_with_its_reason(
    kafka_settings: Kafka, dcsa_events, edi: str
) -> None:
    items = read_dcsa(json.dumps(dcsa_events)) + read_coarri(edi)
    rejects = [i for i in items if isinstance(i, Rejected)]
    client = ChainedProducer(kafka_settings, WriterRole.terminal, "terminal-generated")
    try:
        publish_feed_items(client, items, "generated")
    finally:
        client.close()
    letters = [DEAD_LETTER.decode(v) for v in read_topic(kafka_settings, DEAD_LETTER, 10**6, 2)]
    published = {(d.reason, d.raw) for d in letters if d.source == "generated"}
    assert {(r.reason, r.raw) for r in rejects} <= published


def test_each_container_event_is_stamped_once_with_when_it_was_ingested(
    kafka_settings: Kafka,
) -> None:
    events = [e for e in read_dcsa(json.dumps([dcsa_discharge()])) if isinstance(e, ContainerEvent)]
    ingested = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    client = ChainedProducer(kafka_settings, WriterRole.terminal)
    try:
        publish_feed_items(client, events, "dcsa", clock=lambda: ingested)
        # Sent on again (a feed replayed by hand), it keeps its first ingestion.
        [first] = [TERMINAL.decode(v) for v in read_topic(kafka_settings, TERMINAL, 1)]
        publish_feed_items(client, [first], "dcsa", clock=lambda: ingested + timedelta(days=1))
    finally:
        client.close()
    stored = [TERMINAL.decode(v) for v in read_topic(kafka_settings, TERMINAL, 2)]
    assert [e.ingested_at for e in stored] == [ingested, ingested]
    assert [e.recorded_at for e in stored] == [events[0].recorded_at] * 2
    assert events[0].ingested_at is None  # the adapter's reading, before it was published
