"""The console against the real broker: alerts from the topic, actions onto it (and back into
every console), the live stream, and the metrics the actions feed."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from config.cameras import Camera
from config.kafka import Kafka
from config.signing import Signing
from config.site import SiteConfig, SiteInfo
from ingest.frames import CameraStatus
from quaywatch.console.guard import CSRF_COOKIE, CSRF_HEADER
from quaywatch.console.server import ConsoleServer
from quaywatch.console.users import Role, UserStore, users_path
from streams.alerts import Severity
from streams.camera_health import CameraHealth
from streams.chain import ChainedProducer
from streams.messages import M
from streams.reader import TopicReader
from streams.topics import ALERTS, CAMERA_HEALTH, OPERATOR_ACTIONS, Topic
from tests.unit.test_console_board import make_alert

pytestmark = pytest.mark.integration

PASSWORD = "long enough password"


def publish(kafka: Kafka, topic: Topic[M], message: M) -> None:
    """Put one message on the topic as the role that writes it (correlator, camera worker)."""
    [role] = topic.writers
    client = ChainedProducer(kafka, role)
    try:
        client.send(topic, message.stamped()).get(timeout=10)
    finally:
        client.close()


def read_topic(kafka: Kafka, topic: Topic[M]) -> list[M]:
    """Every message on the topic now (read from the beginning, as the console does)."""
    reader = TopicReader(kafka, [topic]).wait_for_partitions()
    try:
        return [received.message() for received in reader.read_new()]
    finally:
        reader.close()


def wait_for(what: str, check: Callable[[], object], timeout_s: float = 20) -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


@pytest.fixture
def site(kafka_settings: Kafka, tmp_path: Path, role_keys: Signing) -> SiteConfig:
    users = UserStore(users_path(tmp_path), PasswordHasher(time_cost=1, memory_cost=1024))
    for role in Role:
        users.add(role.value, role, PASSWORD)
    return SiteConfig(
        site=SiteInfo(id="test", name="Test terminal"),
        data_dir=tmp_path,
        cameras=[Camera(id="cam-quay", source="x.avi")],
        kafka=kafka_settings,
        signing=role_keys,
    )


@pytest.fixture
def consoles(site: SiteConfig) -> Iterator[list[ConsoleServer]]:
    """Two consoles on the same topics, as in two control rooms."""
    servers = [ConsoleServer(site, port=0).start(), ConsoleServer(site, port=0).start()]
    yield servers
    for server in servers:
        server.stop()


def logged_in(server: ConsoleServer, role: Role) -> httpx.Client:
    # As the page does: its own Origin on every request, the session's CSRF token sent back.
    client = httpx.Client(base_url=server.url, timeout=15, headers={"Origin": server.url})
    response = client.post("/login", data={"name": role.value, "password": PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == "/", response.text
    client.headers[CSRF_HEADER] = client.cookies[CSRF_COOKIE]
    return client


def alerts(client: httpx.Client) -> list[dict]:
    response = client.get("/api/alerts")
    assert response.status_code == 200, response.text
    return response.json()


def test_alerts_revisions_and_actions_flow_through_the_topics_to_every_console(
    consoles: list[ConsoleServer], kafka_settings: Kafka
) -> None:
    here, there = (logged_in(server, Role.operator) for server in consoles)
    publish(kafka_settings, ALERTS, make_alert("a-1", Severity.medium))
    publish(kafka_settings, ALERTS, make_alert("a-2", Severity.high))
    wait_for("both alerts", lambda: len(alerts(here)) == 2)
    assert [a["alert_id"] for a in alerts(here)] == ["a-2", "a-1"]

    late_news = "container MSCU1234565 selected by customs, not inspected"
    publish(
        kafka_settings, ALERTS, make_alert("a-1", Severity.critical, revision=2, reason=late_news)
    )
    wait_for("the upgrade", lambda: alerts(here)[0]["alert_id"] == "a-1")
    upgraded = alerts(here)[0]
    assert upgraded["revision"] == 2
    assert upgraded["upgraded_from"] == "medium"
    assert upgraded["reason"] == late_news

    response = here.post(
        "/api/alerts/a-1/actions",
        json={"action": "acknowledge", "reason": "guard sent to Q3", "revision": 2},
    )
    assert response.status_code == 201, response.text

    # Answered only after the broker confirmed it: it is on the topic now.
    actions = read_topic(kafka_settings, OPERATOR_ACTIONS)
    assert [(a.alert_id, a.action, a.operator, a.reason, a.alert_revision) for a in actions] == [
        ("a-1", "acknowledge", "operator", "guard sent to Q3", 2)
    ]
    # The other console learns it from the topic.
    wait_for("the other console", lambda: alerts(there)[0]["state"] == "acknowledged")

    engineer = logged_in(consoles[0], Role.engineer)
    metrics = engineer.get("/metrics").text
    assert 'quaywatch_console_actions_total{action="acknowledge"} 1.0' in metrics
    assert "quaywatch_console_alert_age_at_acknowledge_seconds_count 1.0" in metrics
    other_metrics = logged_in(consoles[1], Role.engineer).get("/metrics").text
    assert 'quaywatch_console_actions_total{action="acknowledge"} 0.0' in other_metrics

    response = here.post(
        "/api/alerts/a-1/actions",
        json={"action": "close_false_alarm", "reason": "crane driver on shift", "revision": 2},
    )
    assert response.status_code == 201, response.text
    closes = (
        'quaywatch_console_closes_total{outcome="false_alarm",rule="intrusion",zone="quay_north"}'
    )
    assert f"{closes} 1.0" in engineer.get("/metrics").text
    wait_for("the close", lambda: alerts(here)[-1]["state"] == "closed_false_alarm")
    response = here.post(
        "/api/alerts/a-1/actions",
        json={"action": "acknowledge", "reason": "again", "revision": 2},
    )
    assert response.status_code == 409 and "already closed_false_alarm" in response.text


def test_the_live_stream_pushes_a_new_alert_and_counts_its_client(
    consoles: list[ConsoleServer], kafka_settings: Kafka
) -> None:
    operator = logged_in(consoles[0], Role.operator)
    engineer = logged_in(consoles[0], Role.engineer)
    with operator.stream("GET", "/api/stream") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert "quaywatch_console_connected_clients 1.0" in engineer.get("/metrics").text
        publish(kafka_settings, ALERTS, make_alert("pushed", Severity.critical))
        deadline = time.monotonic() + 20
        pushed = None
        for line in stream.iter_lines():
            if line.startswith("data: "):
                state = json.loads(line.removeprefix("data: "))
                pushed = next((a for a in state["alerts"] if a["alert_id"] == "pushed"), None)
                if pushed:
                    break
            assert time.monotonic() < deadline, "the alert was not pushed within 20 s"
    assert pushed is not None and pushed["severity"] == "critical"
    assert "actions" not in state and "config_hash" not in state  # not the operator's to see
    wait_for(
        "the client count to drop",
        lambda: "quaywatch_console_connected_clients 0.0" in engineer.get("/metrics").text,
    )


def test_camera_health_reaches_the_camera_panel_of_every_role(
    consoles: list[ConsoleServer], kafka_settings: Kafka
) -> None:
    covered = CameraHealth.create(
        event_id="cam-quay-covered",
        event_time=make_alert("x").event_time,
        site_id="test",
        camera_id="cam-quay",
        status=CameraStatus.blacked_out,
        detail="picture dark and uniform: lens covered?",
    )
    publish(kafka_settings, CAMERA_HEALTH, covered)
    for role in Role:
        client = logged_in(consoles[1], role)
        cameras = wait_for("the health report", lambda c=client: c.get("/api/cameras").json())
        assert [(c["camera_id"], c["status"]) for c in cameras] == [("cam-quay", "blacked_out")]
