"""A shelved alert comes back by itself: when its shelf runs out, every open live page is
pushed the alert as unacknowledged again, with no message on any topic to prompt it."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

from config.kafka import Kafka
from quaywatch.console.server import ConsoleServer
from quaywatch.console.users import Role
from streams.alerts import Severity
from streams.messages import utc_now
from streams.topics import ALERTS, OPERATOR_ACTIONS
from tests.integration.test_console_topics import (  # noqa: F401 - fixtures
    consoles,
    logged_in,
    publish,
    site,
)
from tests.unit.test_console_board import make_action, make_alert

pytestmark = pytest.mark.integration


def test_a_shelf_that_runs_out_pushes_the_alert_back_to_every_page(
    consoles: list[ConsoleServer],  # noqa: F811
    kafka_settings: Kafka,
) -> None:
    operator = logged_in(consoles[1], Role.operator)
    publish(kafka_settings, ALERTS, make_alert("shelved", Severity.high))
    now = utc_now()
    until = now + timedelta(seconds=10)
    # Written as another console would; the page watching here only reads it back.
    publish(
        kafka_settings,
        OPERATOR_ACTIONS,
        make_action("shelved", "shelve", at=now, shelved_until=until),
    )
    states: list[tuple[str, float]] = []
    with operator.stream("GET", "/api/stream", timeout=30) as stream:
        deadline = time.monotonic() + 30
        for line in stream.iter_lines():
            assert time.monotonic() < deadline, f"no return within 30 s: {states}"
            if not line.startswith("data: "):
                continue
            pushed = json.loads(line.removeprefix("data: "))["alerts"]
            entry = next((a for a in pushed if a["alert_id"] == "shelved"), None)
            if entry is None or (states and states[-1][0] == entry["state"]):
                continue
            if not states and entry["state"] != "shelved":
                continue  # pushed before this console read the shelve
            states.append((entry["state"], time.time()))
            if entry["state"] == "unacknowledged":
                break
    assert [state for state, _ in states] == ["shelved", "unacknowledged"]
    assert states[1][1] >= until.timestamp()
    assert states[1][1] - until.timestamp() < 3  # pushed within a couple of seconds
