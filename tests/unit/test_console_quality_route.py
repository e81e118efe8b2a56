"""The engineer's alarm-quality route: the board's tally for engineers, refused to the others."""

from __future__ import annotations

from fastapi.testclient import TestClient

from quaywatch.console.app import ConsoleParts
from quaywatch.console.auth import SESSION_COOKIE
from streams.operator_actions import ActionKind, CloseOutcome
from tests.unit.test_console_board import T0, make_action
from tests.unit.test_console_routes import (  # noqa: F401 - fixtures
    client,
    clock,
    parts,
    session_cookie,
)

CLOSED = {
    "zone_id": "quay_north",
    "rule": "intrusion",
    "raised": 1,
    "open": 0,
    "closed": 1,
    "confirmed_incidents": 0,
    "false_alarms": 1,
    "authorised_presences": 0,
    "false_alarm_rate": 1.0,
}


def test_an_engineer_reads_the_false_alarm_rate_per_zone_and_rule(
    client: TestClient,  # noqa: F811
    parts: ConsoleParts,  # noqa: F811
) -> None:
    parts.board.apply_action(make_action("a", ActionKind.close, outcome=CloseOutcome.false_alarm))
    engineer = {SESSION_COOKIE: session_cookie(client, "engineer")}

    response = client.get("/api/quality", cookies=engineer)

    assert response.status_code == 200, response.text
    quality = response.json()
    assert set(quality) == {"as_of", "since", "zones", "site"}
    assert quality["since"] == T0.isoformat()
    assert quality["zones"] == [CLOSED]
    assert quality["site"] == {**CLOSED, "zone_id": "all zones", "rule": "all rules"}


def test_operators_and_auditors_may_not_read_alarm_quality(client: TestClient) -> None:  # noqa: F811
    assert client.get("/api/quality").status_code == 401
    for role in ("operator", "auditor"):
        response = client.get(
            "/api/quality", cookies={SESSION_COOKIE: session_cookie(client, role)}
        )
        assert response.status_code == 403, role
        assert "needs engineer" in response.json()["detail"]
