"""A correlator process restarted after its state was checkpointed loads the checkpoint and
reads only the terminal records after it, and raises the alerts a correlator that read the
whole topic raises; a checkpoint the correlator role did not sign is ignored."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import yaml
from kafka import KafkaProducer

from config.correlation import Correlation
from config.kafka import Kafka
from config.signing import WriterRole
from config.site import SiteConfig
from streams.access import AccessEvent
from streams.alerts import Severity
from streams.broker.embedded import EmbeddedBroker
from streams.chained_producer import ChainedProducer
from streams.correlator import checkpoint
from streams.correlator.checkpoint import load_latest, parts_of
from streams.correlator.engine import CorrelationEngine
from streams.correlator.knowledge import DeadLetters
from streams.kafka import BURST_PRODUCER
from streams.messages import SCHEMA_HEADER
from streams.reader import TopicReader
from streams.record_check import RecordCheck
from streams.terminal.events import ContainerEvent
from streams.topics import ALERTS, CHECKPOINTS
from tests.fixtures.broker import fresh_topics
from tests.fixtures.port_story import (
    SELECTED,
    STORY_START,
    StoryWriters,
    access_event,
    night_yard,
    port_night,
    produce,
    story_site,
)
from tests.integration.test_correlator_instances import RUN_SPECIFIC, start_correlator
from tests.integration.test_correlator_restarts import stop

pytestmark = pytest.mark.integration

BLOCKS = 6
NIGHT = port_night(seed=31, containers=1500, incidents=120, blocks=BLOCKS)
NEWS = [event for event in NIGHT if isinstance(event, ContainerEvent)]
PEOPLE = [event for event in NIGHT if isinstance(event, AccessEvent)]
BEFORE = len(NEWS) * 2 // 3  # terminal records there before the first correlator stops
CORRELATION = Correlation(grace_seconds=120, checkpoint_every_records=500)


def site_file(directory: Path, kafka: Kafka) -> Path:
    site = story_site(kafka, BLOCKS, CORRELATION)
    path = directory / f"{kafka.topic_prefix}yaml"
    path.write_text(yaml.safe_dump(site.model_dump(mode="json")))
    return path


def record_check(config: Path) -> RecordCheck:
    site = SiteConfig.model_validate(yaml.safe_load(config.read_text()))
    return RecordCheck.for_site(site.signing)


def alert_log(kafka: Kafka, quiet_s: float = 5.0, timeout_s: float = 180) -> dict:
    """Every (alert id, revision) with its body, once none came for `quiet_s` after the first."""
    reader = TopicReader(kafka, [ALERTS]).wait_for_partitions()
    log: dict[tuple[str, int], str] = {}
    deadline, last = time.monotonic() + timeout_s, None
    try:
        while time.monotonic() < deadline and (last is None or time.monotonic() - last < quiet_s):
            for received in reader.poll(timeout_ms=200):
                alert = received.message()
                body = alert.model_dump(mode="json", exclude=set(RUN_SPECIFIC))
                log[(alert.alert_id, alert.revision)] = json.dumps(body, sort_keys=True)
                last = time.monotonic()
    finally:
        reader.close()
    return log


def wait_for_checkpoint(kafka: Kafka, check: RecordCheck, terminal_records: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        loaded = load_latest(kafka, check)
        if loaded and sum(loaded.offsets["terminal"].values()) == terminal_records:
            return
        time.sleep(1)
    raise AssertionError(f"no checkpoint of {terminal_records} terminal records in 120 s")


def test_a_restart_loads_the_checkpoint_reads_what_follows_and_raises_the_same_alerts(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    # The reference: one correlator reading everything, no checkpoint to start from.
    whole = fresh_topics(broker.bootstrap)
    client = StoryWriters(whole)
    produce(client, NEWS + PEOPLE)
    client.close()
    process = start_correlator(site_file(tmp_path, whole), tmp_path / "whole.log")
    try:
        expected = alert_log(whole)
    finally:
        stop(process)
    assert len({alert_id for alert_id, _ in expected}) > 20

    kafka = fresh_topics(broker.bootstrap)
    config = site_file(tmp_path, kafka)
    client = StoryWriters(kafka)
    produce(client, NEWS[:BEFORE])
    first = start_correlator(config, tmp_path / "first.log")
    try:
        wait_for_checkpoint(kafka, record_check(config), BEFORE)
    finally:
        stop(first)
    produce(client, NEWS[BEFORE:] + PEOPLE)
    client.close()
    log = tmp_path / "second.log"
    second = start_correlator(config, log)
    try:
        got = alert_log(kafka)
    finally:
        stop(second)
    text = log.read_text()
    assert "state restored from checkpoint" in text, text[-3000:]
    read = re.search(r"start-up read: (\d+) terminal, (\d+) alerts", text)
    assert read is not None, text[-3000:]
    assert int(read.group(1)) == len(NEWS) - BEFORE
    assert got == expected


def test_a_checkpoint_the_correlator_role_did_not_sign_is_ignored(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """Someone on the network writes a checkpoint of an empty yard that claims to cover every
    terminal record: trusted, it would hide the container customs selected."""
    kafka = fresh_topics(broker.bootstrap)
    config = site_file(tmp_path, kafka)
    client = StoryWriters(kafka)
    yard = night_yard()
    produce(client, yard)
    empty_yard = CorrelationEngine(CORRELATION, "c" * 64)
    claims = {"terminal": {n: len(yard) for n in range(3)}}
    forged = parts_of(empty_yard, DeadLetters("correlator"), claims)
    plain = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    for part in forged:
        headers = [(SCHEMA_HEADER, b"table-checkpoint/1")]
        plain.send(kafka.topic(CHECKPOINTS), part.to_bytes(), key=b"x", headers=headers)
    plain.flush()
    plain.close()
    log = tmp_path / "correlator.log"
    process = start_correlator(config, log)
    try:
        produce(client, [access_event("zone-B0", STORY_START, "at-the-selected", ["B0"])])
        alerts = alert_log(kafka)
    finally:
        client.close()
        stop(process)
    text = log.read_text()
    assert "checkpoint part at" in text and "ignored" in text, text[-3000:]
    assert "no checkpoint of the correlator's state" in text
    (first,) = [body for (_, revision), body in alerts.items() if revision == 1]
    alert = json.loads(first)
    assert alert["severity"] == Severity.critical.value
    assert SELECTED in {container["container_number"] for container in alert["containers"]}


def test_a_checkpoint_whose_parts_went_out_in_one_batch_is_loaded_whole(
    kafka_settings: Kafka, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedded broker's end offsets stop at the last batch's first record: a checkpoint
    whose last parts share a batch must still be found complete, by the high-water mark."""
    site = story_site(kafka_settings, BLOCKS, CORRELATION)
    engine = CorrelationEngine.for_site(site)
    for event in NEWS:
        engine.on_container_event(event)
    monkeypatch.setattr(checkpoint, "PART_BYTES", 16 * 1024)  # many small parts, few batches
    producer = ChainedProducer(kafka_settings, WriterRole.correlator, **BURST_PRODUCER)
    try:
        offsets = {"terminal": {0: len(NEWS)}, "alerts": {0: 0}, "dead-letter": {0: 0}}
        parts = checkpoint.write_checkpoint(producer, engine, DeadLetters("correlator"), offsets)
    finally:
        producer.close()
    assert parts > 3

    loaded = load_latest(kafka_settings, RecordCheck.for_site(site.signing))

    assert loaded is not None
    assert len(loaded.facts) == sum(len(facts) for _, facts in engine.table.histories())
