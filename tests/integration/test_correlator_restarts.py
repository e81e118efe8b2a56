"""Correlator processes killed mid-stream, or running side by side, end with the same alerts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from config.correlation import Correlation
from config.kafka import Kafka
from streams.access import AccessEvent
from streams.broker.embedded import EmbeddedBroker
from streams.correlator.engine import CorrelationEngine
from streams.reader import TopicReader
from streams.topics import ALERTS
from tests.fixtures.broker import fresh_topics
from tests.fixtures.port_story import StoryWriters, port_night, produce, story_site

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
BLOCKS = 30
NIGHT = port_night(seed=7, containers=300, incidents=1000, blocks=BLOCKS)
INCIDENTS = {e.incident_id for e in NIGHT if e.schema_name == "access-event"}
FinalAlerts = dict[str, tuple[int, str]]


def episode_alert_ids() -> set[str]:
    """The alerts the night must end with: one per zone episode, as the engine groups them."""
    site = story_site(Kafka(), BLOCKS, Correlation(grace_seconds=120))
    engine = CorrelationEngine.for_site(site)
    raised: set[str] = set()
    for event in NIGHT:
        if isinstance(event, AccessEvent):
            raised |= {alert.alert_id for alert in engine.on_access(event)}
    return raised


EPISODES = episode_alert_ids()


def site_file(directory: Path, kafka: Kafka) -> Path:
    site = story_site(kafka, BLOCKS, Correlation(grace_seconds=120))
    path = directory / f"{kafka.topic_prefix}yaml"
    path.write_text(yaml.safe_dump(site.model_dump(mode="json")))
    return path


def start_correlator(config: Path, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "quaywatch", "correlate", "--config", str(config)]
    with log.open("ab") as output:
        return subprocess.Popen(
            [*command, "--metrics-port", "0"], cwd=REPO, stdout=output, stderr=output
        )


def final_alerts(kafka: Kafka, quiet_s: float = 3.0, timeout_s: float = 120) -> FinalAlerts:
    """(last revision, its severity) per alert id, once every incident has one and none moved
    for `quiet_s`; whatever is there at the timeout otherwise (the comparison then fails)."""
    reader = TopicReader(kafka, [ALERTS]).wait_for_partitions()
    latest: FinalAlerts = {}
    expected = EPISODES
    last_change = time.monotonic()
    deadline = last_change + timeout_s
    while time.monotonic() < deadline:
        for received in reader.poll(timeout_ms=200):
            alert = received.message()
            if alert.revision > latest.get(alert.alert_id, (0, ""))[0]:
                latest[alert.alert_id] = (alert.revision, alert.severity.value)
                last_change = time.monotonic()
        if expected <= latest.keys() and time.monotonic() - last_change > quiet_s:
            break
    reader.close()
    return latest


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def uninterrupted(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> FinalAlerts:
    kafka = fresh_topics(broker.bootstrap)
    directory = tmp_path_factory.mktemp("uninterrupted")
    client = StoryWriters(kafka)
    produce(client, NIGHT)
    client.close()
    process = start_correlator(site_file(directory, kafka), directory / "correlator.log")
    try:
        alerts = final_alerts(kafka)
    finally:
        stop(process)
    assert alerts.keys() == EPISODES, (directory / "correlator.log").read_text()[-3000:]
    return alerts


def test_people_passing_within_minutes_of_each_other_share_an_alert() -> None:
    assert len(INCIDENTS) // 2 < len(EPISODES) < len(INCIDENTS)


def test_a_night_of_thousands_of_events_raises_every_kind_of_alert(
    uninterrupted: FinalAlerts,
) -> None:
    severities = {severity for _, severity in uninterrupted.values()}
    assert severities == {"critical", "high", "medium", "suppressed"}
    assert any(revision > 1 for revision, _ in uninterrupted.values())


def test_correlator_killed_again_and_again_ends_with_the_same_alerts(
    broker: EmbeddedBroker, tmp_path: Path, uninterrupted: FinalAlerts
) -> None:
    kafka = fresh_topics(broker.bootstrap)
    config, log = site_file(tmp_path, kafka), tmp_path / "correlator.log"
    client = StoryWriters(kafka)
    chunks = [NIGHT[i : i + len(NIGHT) // 6 + 1] for i in range(0, len(NIGHT), len(NIGHT) // 6 + 1)]
    process = start_correlator(config, log)
    kills = 0
    try:
        for number, chunk in enumerate(chunks):
            produce(client, chunk)
            time.sleep(1.5 if number % 2 else 4.5)  # sometimes mid-join, sometimes mid-work
            if number % 2 == 1:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                kills += 1
                process = start_correlator(config, log)
        alerts = final_alerts(kafka)
    finally:
        stop(process)
        client.close()
    assert kills >= 3
    assert alerts == uninterrupted


def test_two_correlators_together_raise_the_same_alerts_as_one(
    broker: EmbeddedBroker, tmp_path: Path, uninterrupted: FinalAlerts
) -> None:
    kafka = fresh_topics(broker.bootstrap)
    config = site_file(tmp_path, kafka)
    client = StoryWriters(kafka)
    produce(client, NIGHT)
    client.close()
    pair = [start_correlator(config, tmp_path / f"correlator-{n}.log") for n in (1, 2)]
    try:
        alerts = final_alerts(kafka)
    finally:
        for process in pair:
            stop(process)
    assert alerts == uninterrupted
