"""Alarm quality across consoles on the real broker: an operator closes alerts in one console,
and the engineer view of a `quaywatch console` process (running meanwhile, then started again)
shows the same tally, read from the topics rather than counted by whoever published."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from config.kafka import Kafka
from config.loading import load_site
from detectors.events import AccessRule
from quaywatch.console.server import ConsoleServer
from quaywatch.console.users import Role
from streams.alerts import Severity
from streams.topics import ALERTS
from tests.integration.test_console_topics import logged_in, publish, wait_for
from tests.security.console_processes import Console, add_users, console_site, start_console
from tests.unit.test_alarm_quality import alert_in

pytestmark = pytest.mark.integration

INTRUSION, LOITERING = [AccessRule.intrusion], [AccessRule.loitering]
ALERTS_RAISED = {
    "a-1": ("quay_north", INTRUSION),
    "a-2": ("quay_north", INTRUSION),
    "a-3": ("quay_north", INTRUSION),
    "a-4": ("gate", LOITERING),
    "a-5": ("gate", LOITERING),
}
CLOSES = {
    "a-1": "false_alarm",
    "a-2": "authorised_presence",
    "a-3": "confirmed_incident",
    "a-4": "false_alarm",
}
# Every figure of the engineer view once the closes are in; a-5 is left open.
TALLY = [
    {
        "zone_id": "gate",
        "rule": "loitering",
        "raised": 2,
        "open": 1,
        "closed": 1,
        "confirmed_incidents": 0,
        "false_alarms": 1,
        "authorised_presences": 0,
        "false_alarm_rate": 1.0,
    },
    {
        "zone_id": "quay_north",
        "rule": "intrusion",
        "raised": 3,
        "open": 0,
        "closed": 3,
        "confirmed_incidents": 1,
        "false_alarms": 1,
        "authorised_presences": 1,
        "false_alarm_rate": 1 / 3,
    },
]
SITE = {
    "zone_id": "all zones",
    "rule": "all rules",
    "raised": 5,
    "open": 1,
    "closed": 4,
    "confirmed_incidents": 1,
    "false_alarms": 2,
    "authorised_presences": 1,
    "false_alarm_rate": 0.5,
}


@pytest.fixture
def site_path(tmp_path: Path, kafka_settings: Kafka) -> Path:
    path = console_site(tmp_path, kafka_settings, {})
    add_users(tmp_path / "data", {"operator": Role.operator, "engineer": Role.engineer})
    return path


@pytest.fixture
def control_room(site_path: Path) -> Iterator[ConsoleServer]:
    """The operator's console, in this process."""
    server = ConsoleServer(load_site(site_path), port=0).start()
    yield server
    server.stop()


@pytest.fixture
def engineers_console(tmp_path: Path, site_path: Path) -> Iterator[Console]:
    """Another console, as its own `quaywatch console` process."""
    console = start_console(tmp_path, site_path, name="engineers-console")
    yield console
    console.process.stop()


def quality(client: httpx.Client) -> dict:
    response = client.get("/api/quality")
    assert response.status_code == 200, response.text
    return response.json()


def test_closes_in_one_console_reach_the_engineer_view_of_another_console_process(
    kafka_settings: Kafka,
    tmp_path: Path,
    site_path: Path,
    control_room: ConsoleServer,
    engineers_console: Console,
) -> None:
    for number, (alert_id, (zone, rules)) in enumerate(ALERTS_RAISED.items()):
        publish(kafka_settings, ALERTS, alert_in(alert_id, zone, rules, Severity.high, 1, number))
    operator = logged_in(control_room, Role.operator)
    wait_for(
        "the alerts in the operator's console",
        lambda: len(operator.get("/api/alerts").json()) == 5,
        60,
    )
    engineer = engineers_console.log_in("engineer")
    wait_for(
        "the alerts in the engineer's view", lambda: quality(engineer)["site"]["raised"] == 5, 60
    )
    assert quality(engineer)["site"]["closed"] == 0

    for alert_id, outcome in CLOSES.items():
        response = operator.post(
            f"/api/alerts/{alert_id}/actions",
            json={"action": "close", "outcome": outcome, "reason": "seen on camera", "revision": 1},
        )
        assert response.status_code == 201, response.text

    wait_for(
        "the closes in the engineer's view", lambda: quality(engineer)["site"]["closed"] == 4, 60
    )
    seen = quality(engineer)
    assert (seen["zones"], seen["site"]) == (TALLY, SITE)
    # The operator's own console tallies the same from the same topics, once it has read its
    # own last close back from them (its follower may be a poll behind the other console's).
    here = logged_in(control_room, Role.engineer)
    wait_for("the closes in the operator's console", lambda: quality(here)["site"] == SITE, 60)
    assert quality(here)["zones"] == TALLY
    # The closes counter is the publishing console's alone: the other process counted none.
    metrics = engineer.get("/metrics").text
    assert 'quaywatch_console_closes_total{outcome="false_alarm"' not in metrics
    # Operators do not get the engineer's view.
    assert engineers_console.log_in("operator").get("/api/quality").status_code == 403

    # Started again, the process reads the topics from their start and shows the same.
    engineers_console.process.stop()
    again = start_console(tmp_path, site_path, name="engineers-console-again")
    try:
        engineer = again.log_in("engineer")
        wait_for("the tally after the restart", lambda: quality(engineer)["site"] == SITE, 60)
        assert quality(engineer)["zones"] == TALLY
    finally:
        again.process.stop()
