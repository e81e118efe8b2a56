"""The operator-action message and its JSON Schema describe the same thing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from argon2 import PasswordHasher
from pydantic import ValidationError

from config.kafka import Kafka
from quaywatch.console.actions import ActionNotRecorded, ActionPublisher
from quaywatch.console.handling import ActionRefused, ActionRequest
from quaywatch.console.users import Role, UserStore, users_path
from streams.operator_actions import ActionKind, CloseOutcome, OperatorAction
from tests.unit.test_console_board import make_action

SCHEMA_PATH = Path(__file__).parents[2] / "streams" / "schemas" / "operator-action.v1.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def acknowledgement() -> OperatorAction:
    at = datetime(2026, 3, 1, 2, 14, tzinfo=UTC)
    return make_action("alert-7", ActionKind.acknowledge, revision=2, at=at, event_id="a1")


def test_a_published_action_validates_against_the_schema(
    validator: jsonschema.Draft202012Validator,
) -> None:
    raw = acknowledgement().stamped().to_bytes()
    validator.validate(json.loads(raw))
    decoded = OperatorAction.from_bytes(raw)
    assert decoded.published_at is not None
    assert decoded.model_copy(update={"published_at": None}) == acknowledgement()


def test_schema_file_is_the_model_schema() -> None:
    # A changed model needs a new schema file (and a new version when it breaks readers).
    on_file = json.loads(SCHEMA_PATH.read_text())
    generated = OperatorAction.model_json_schema(mode="serialization")
    assert {k: v for k, v in on_file.items() if k != "$schema"} == generated
    assert on_file["$defs"]["ActionKind"]["enum"] == [kind.value for kind in ActionKind]


@pytest.mark.parametrize(
    ("field", "value"),
    [("reason", ""), ("action", "shelve"), ("alert_revision", 0), ("operator", None)],
)
def test_the_schema_refuses_what_the_model_refuses(
    validator: jsonschema.Draft202012Validator, field: str, value: object
) -> None:
    body = json.loads(acknowledgement().to_bytes())
    body[field] = value
    assert list(validator.iter_errors(body)), f"{field}={value!r} should be invalid"


def test_an_action_the_broker_does_not_confirm_is_reported_not_recorded() -> None:
    # Port 9 (discard) has no Kafka behind it on a test machine.
    publisher = ActionPublisher(Kafka(bootstrap_servers=["127.0.0.1:9"]), timeout_seconds=1)
    try:
        with pytest.raises(ActionNotRecorded, match="alert-7: the broker at 127.0.0.1:9"):
            publisher.publish(acknowledgement())
    finally:
        publisher.close()


OLD_CLOSE = {
    # A close as consoles wrote it before outcomes, shelving and assignment existed.
    "schema_name": "operator-action",
    "schema_version": 1,
    "event_id": "old-1",
    "event_time": "2026-03-01T02:20:00Z",
    "published_at": "2026-03-01T02:20:00.100000Z",
    "alert_id": "alert-7",
    "alert_revision": 1,
    "action": "close_real",
    "reason": "guard found the seal broken",
    "operator": "olga",
    "role": "operator",
    "console_id": "console-1",
}


def test_an_old_close_still_reads_with_the_outcome_it_stood_for(
    validator: jsonschema.Draft202012Validator,
) -> None:
    validator.validate(OLD_CLOSE)
    old = OperatorAction.model_validate(OLD_CLOSE)
    assert old.close_outcome is CloseOutcome.confirmed_incident
    assert (old.outcome, old.shelved_until, old.assignee) == (None, None, None)


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"action": "shelve"}, "needs shelved_until"),
        ({"action": "assign"}, "needs assignee"),
        ({"action": "close"}, "needs outcome"),
        ({"action": "close", "outcome": "false_alarm", "assignee": "piet"}, "belongs to assign"),
        ({"action": "acknowledge", "outcome": "false_alarm"}, "belongs to close"),
        ({"action": "shelve", "shelved_until": "2026-03-01T02:19:00Z"}, "is not after"),
    ],
)
def test_each_field_goes_with_its_kind_of_action_in_the_model_and_the_schema(
    validator: jsonschema.Draft202012Validator, extra: dict[str, str], problem: str
) -> None:
    body = {**OLD_CLOSE, **extra}
    with pytest.raises(ValidationError, match=problem):
        OperatorAction.model_validate(body)
    if problem != "is not after":  # a comparison of two fields is beyond JSON Schema
        assert list(validator.iter_errors(body)), f"the schema lets {extra} through"


@pytest.mark.parametrize(
    "extra",
    [
        {"action": "shelve", "shelved_until": "2026-03-01T03:20:00Z"},
        {"action": "assign", "assignee": "piet"},
        {"action": "close", "outcome": "authorised_presence"},
    ],
)
def test_the_new_actions_validate(
    validator: jsonschema.Draft202012Validator, extra: dict[str, str]
) -> None:
    body = {**OLD_CLOSE, **extra}
    validator.validate(body)
    assert OperatorAction.model_validate(body).action == extra["action"]


@pytest.fixture
def users(tmp_path: Path) -> UserStore:
    store = UserStore(users_path(tmp_path), PasswordHasher(time_cost=1, memory_cost=1024))
    store.add("piet", Role.operator, "long enough password")
    store.add("arie", Role.auditor, "long enough password")
    return store


def requested(users: UserStore, **fields: object) -> OperatorAction:
    request = ActionRequest.model_validate({"reason": "seen", "revision": 1, **fields})
    return request.to_action(
        alert_id="alert-7",
        now=datetime(2026, 3, 1, 2, 14, tzinfo=UTC),
        operator="olga",
        role=Role.operator,
        console_id="console-1",
        users=users,
    )


def test_a_shelve_request_shelves_for_its_minutes(users: UserStore) -> None:
    action = requested(users, action="shelve", shelve_minutes=15)
    assert action.shelved_until == datetime(2026, 3, 1, 2, 29, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"action": "assign", "assignee": "arie"}, "no operator named 'arie'"),
        ({"action": "assign", "assignee": "nobody"}, "no operator named 'nobody'"),
        ({"action": "close"}, "a close action needs outcome"),
        ({"action": "shelve"}, "a shelve action needs shelve_minutes"),
    ],
)
def test_a_request_the_console_cannot_act_on_says_why(
    users: UserStore, fields: dict[str, str], problem: str
) -> None:
    with pytest.raises(ActionRefused, match=problem):
        requested(users, **fields)


def test_the_old_close_words_are_not_accepted_from_a_page(users: UserStore) -> None:
    with pytest.raises(ValidationError, match="only read from old records"):
        requested(users, action="close_real")
