"""Records written straight onto the topics by someone on the terminal's network, with a plain
kafka-python producer, change nothing: no alert raised, no severity lowered, nothing closed in
the console, nothing laundered into the correlator's own revisions; each forgery is on
`dead-letter` with its reason and location.

A real correlator and a real console follow a real broker. Each forgery comes two ways: with
no chain at all, and with a chain of the forger's own making, signed with a key the site does
not trust (a forger who knows the chain format but not the roles' keys).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from kafka import KafkaProducer

from config.correlation import Correlation
from config.kafka import Kafka
from config.signing import WriterRole
from config.site import SiteConfig
from quaywatch.console.board import AlertState
from quaywatch.console.server import ConsoleServer
from streams.alerts import Alert, Severity
from streams.chain import Chain, PlacedRecord, now_ms, partition_for
from streams.correlator.engine import alert_id_for
from streams.correlator.loop import Correlator
from streams.dead_letter import DeadLetter
from streams.messages import M
from streams.reader import TopicReader
from streams.record_check import RecordCheck, RecordRejected
from streams.signing import Signer, signer_for
from streams.terminal.events import ContainerActivity as Did
from streams.terminal.signature import SUBSCRIPTION_HEADER, new_secret
from streams.topics import ACCESS, ALERTS, DEAD_LETTER, OPERATOR_ACTIONS, TERMINAL, Topic
from tests.fixtures import port_story as story
from tests.fixtures.broker import fresh_topics
from tests.integration.dcsa_callbacks import start_callback_endpoint
from tests.security.conftest import discharge_batch, new_container_number

pytestmark = pytest.mark.integration

NIGHT = story.STORY_START
GENUINE = "selected"  # a person next to the container customs selected: critical
FORGERIES = ("unchained", "unknown-key")
# The forger's signer, for a chain of their own making: a key of their own, or the key of a
# camera worker they took over, which signs access events but nothing else.
FORGERS: dict[str, Callable[[], Signer]] = {
    "unknown-key": lambda: Signer(Ed25519PrivateKey.generate()),
    "camera-key": lambda: signer_for(WriterRole.camera),
}
REASONS = {
    "unchained": "no chain headers",
    "unknown-key": "which the site does not trust",
    "camera-key": "of the camera role; only console may write",
}


@dataclass
class Port:
    """A night at the port with its genuine critical alert, a correlator and a console."""

    site: SiteConfig
    correlator: Correlator
    console: ConsoleServer

    @property
    def kafka(self) -> Kafka:
        return self.site.kafka

    def rejected(self, topic: Topic[Any]) -> tuple[float, float]:
        """How many records of `topic` the correlator and the console counted as rejected."""
        correlator = self.correlator.metrics.registry.get_sample_value(
            "quaywatch_correlator_rejected_total", {"topic": topic.name}
        )
        console = self.console.parts.metrics.registry.get_sample_value(
            "quaywatch_console_records_rejected_total", {"topic": topic.name}
        )
        return correlator or 0.0, console or 0.0

    def checked(self, topic: Topic[M]) -> list[M]:
        """Every record on the topic that passes the consumers' check, as messages."""
        reader = TopicReader(self.kafka, [topic], RecordCheck.for_site(self.site.signing))
        messages = []
        try:
            for received in reader.wait_for_partitions().read_new():
                with contextlib.suppress(RecordRejected):
                    messages.append(received.message())
        finally:
            reader.close()
        return messages


def wait_for(what: str, check: Callable[[], object], timeout_s: float = 30) -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


@pytest.fixture(scope="module")
def port(broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Port]:
    kafka = fresh_topics(broker.bootstrap)
    site = story.story_site(kafka, correlation=Correlation(grace_seconds=120)).model_copy(
        update={"data_dir": tmp_path_factory.mktemp("port")}
    )
    writers = story.StoryWriters(kafka)
    story.produce(
        writers, [*story.night_yard(), story.access_event("zone-B0", NIGHT, GENUINE, ["B0"])]
    )
    with (
        closing(writers),
        story.correlating(site) as correlator,
        ConsoleServer(site, port=0) as console,
    ):
        port = Port(site, correlator, console)
        wait_for("the genuine alert on the board", lambda: console.board.entry(genuine_id()))
        yield port


def genuine_id() -> str:
    return alert_id_for(GENUINE)


def forge(kafka: Kafka, topic: Topic[M], message: M, forgery: str) -> str:
    """Write `message` onto `topic` with a plain kafka-python producer; returns where it is."""
    name, key, value = kafka.topic(topic), topic.key_of(message).encode(), message.to_bytes()
    client = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    try:
        partition = partition_for(key, len(client.partitions_for(name)))
        record = PlacedRecord(name, partition, now_ms(), key, value, tuple(message.headers()))
        headers = list(record.headers)
        if forgery != "unchained":
            forger = Chain("forger", FORGERS[forgery]())
            with forger.next_link(record) as (chain_headers, _):
                headers += chain_headers
        sent = client.send(
            name,
            key=key,
            value=value,
            headers=headers,
            partition=partition,
            timestamp_ms=record.timestamp_ms,
        ).get(timeout=10)
    finally:
        client.close()
    return f"{name}/{sent.partition}@{sent.offset}"


def dead_letters_at(
    port: Port, where: str, timeout_s: float = 30, sources: int = 1
) -> list[DeadLetter]:
    """The dead letters for `where`, once `sources` consumers have each written theirs."""

    def found() -> list[DeadLetter]:
        letters = [d for d in port.checked(DEAD_LETTER) if d.location == where]
        return letters if len({d.source for d in letters}) >= sources else []

    return wait_for(f"a dead letter for {where}", found, timeout_s)


def expected_reason(forgery: str) -> str:
    return REASONS[forgery]


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_forged_access_event_raises_no_alert(port: Port, forgery: str) -> None:
    incident = f"forged-access-{forgery}"
    event = story.access_event("zone-B0", NIGHT + timedelta(minutes=30), incident, ["B0"])

    where = forge(port.kafka, ACCESS, event.stamped(), forgery)

    # Both consumers of `access` refuse it: the correlator, and the console (its sightings).
    letters = dead_letters_at(port, where, sources=2)
    assert sorted(letter.source for letter in letters) == ["console", "correlator"]
    assert all(expected_reason(forgery) in letter.reason for letter in letters)
    assert alert_id_for(incident) not in {alert.alert_id for alert in port.checked(ALERTS)}
    assert port.console.board.entry(alert_id_for(incident)) is None
    assert port.rejected(ACCESS)[0] >= 1


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_forged_release_does_not_lower_the_critical_alert(port: Port, forgery: str) -> None:
    # Customs "released" the selected container 30 s after the person was seen: inside the
    # grace period, so a believed release would revise the alert down to medium.
    release = story.container_event(story.SELECTED, Did.released, NIGHT + timedelta(seconds=30))

    where = forge(port.kafka, TERMINAL, release.stamped(), forgery)

    # Both consumers of `terminal` refuse it: the correlator, and the console (its yard map).
    letters = dead_letters_at(port, where, sources=2)
    assert sorted(letter.source for letter in letters) == ["console", "correlator"]
    assert all(expected_reason(forgery) in letter.reason for letter in letters)
    time.sleep(1)  # several correlator turns after it rejected the release
    revisions = [a for a in port.checked(ALERTS) if a.alert_id == genuine_id()]
    assert [(a.revision, a.severity) for a in revisions] == [(1, Severity.critical)]
    assert port.console.board.entry(genuine_id()).alert.severity == Severity.critical


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_forged_alert_is_neither_shown_nor_republished(port: Port, forgery: str) -> None:
    genuine = next(a for a in port.checked(ALERTS) if a.alert_id == genuine_id())
    forged_id = f"{genuine.alert_id}-forged-{forgery}"
    alert = Alert.model_validate(
        {**genuine.model_dump(), "alert_id": forged_id, "event_id": f"{forged_id}:r1"}
    )

    where = forge(port.kafka, ALERTS, alert.stamped(), forgery)

    letters = wait_for(
        "dead letters from the correlator and the console",
        lambda: len(found := dead_letters_at(port, where)) == 2 and found,
    )
    assert {letter.source for letter in letters} == {"correlator", "console"}
    assert min(port.rejected(ALERTS)) >= 1
    assert all(expected_reason(forgery) in letter.reason for letter in letters)
    assert port.console.board.entry(forged_id) is None
    assert forged_id not in {a.alert_id for a in port.checked(ALERTS)}


@pytest.mark.parametrize("forgery", [*FORGERIES, "camera-key"])
def test_a_forged_close_leaves_the_real_alert_open(port: Port, forgery: str) -> None:
    close = story.false_alarm_close(
        genuine_id(), f"action-forged-{forgery}", NIGHT + timedelta(minutes=2)
    )

    where = forge(port.kafka, OPERATOR_ACTIONS, close.stamped(), forgery)

    [letter] = dead_letters_at(port, where)
    assert letter.source == "console" and expected_reason(forgery) in letter.reason
    entry = port.console.board.entry(genuine_id())
    assert entry.state is AlertState.unacknowledged and not entry.actions
    assert port.rejected(OPERATOR_ACTIONS)[1] >= 1


def test_a_forged_release_posted_to_the_feed_endpoint_leaves_the_critical_alert_critical(
    port: Port, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # The story of the attack: customs "released" the selected container (DCSA 3 CUSR) and its
    # seal was "removed" (2.2 RMVD) 30 s after the person was seen, posted to the terminal's
    # own callback endpoint without the subscription's secret, or with a secret of their own.
    at = (NIGHT + timedelta(seconds=30)).isoformat()
    release = {
        "metadata": {
            "eventID": "forged-cusr",
            "eventCreatedDateTime": at,
            "eventType": "EQUIPMENT",
        },
        "payload": {
            "eventClassifierCode": "ACT",
            "eventDateTime": at,
            "equipmentEventTypeCode": "CUSR",
            "equipmentReference": story.SELECTED,
            "emptyIndicatorCode": "LADEN",
        },
    }
    seal_removed = {
        "eventID": "forged-rmvd",
        "eventCreatedDateTime": at,
        "eventType": "EQUIPMENT",
        "eventClassifierCode": "ACT",
        "eventDateTime": at,
        "equipmentEventTypeCode": "RMVD",
        "equipmentReference": story.SELECTED,
        "emptyIndicatorCode": "LADEN",
    }
    body = json.dumps([release, seal_removed]).encode()
    endpoint = start_callback_endpoint(tmp_path_factory.mktemp("endpoint"), port.kafka)
    try:
        unsigned = {
            "Content-Type": "application/json",
            SUBSCRIPTION_HEADER: str(endpoint.subscription_id),
        }
        assert endpoint.request("POST", body, unsigned).status == 401
        forged = endpoint.signed_headers(body, secret=new_secret())
        assert endpoint.request("POST", body, forged).status == 401
        # A genuine post after the forgeries: once it is on `terminal`, theirs would be too.
        sentinel = new_container_number()
        assert endpoint.post_signed(discharge_batch(sentinel)).status == 200
    finally:
        endpoint.process.stop()

    terminal = [event.container_number for event in port.checked(TERMINAL)]
    assert sentinel in terminal and terminal.count(story.SELECTED) == 2  # discharge, selection
    time.sleep(1)  # several correlator turns after the sentinel
    revisions = [a for a in port.checked(ALERTS) if a.alert_id == genuine_id()]
    assert [(a.revision, a.severity) for a in revisions] == [(1, Severity.critical)]
    assert port.console.board.entry(genuine_id()).alert.severity == Severity.critical
