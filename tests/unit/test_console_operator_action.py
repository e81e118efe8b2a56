"""The operator-action message and its JSON Schema describe the same thing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from config.kafka import Kafka
from quaywatch.console.actions import ActionNotRecorded, ActionPublisher
from streams.operator_actions import ActionKind, OperatorAction
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
