"""Operator actions: what an operator did with an alert, as published on `operator-actions`.

The words are ISA-18.2's: an operator acknowledges an alarm, shelves it for a time with a
reason (it returns when the time ends), escalates it, assigns it to a colleague, and closes
it with an outcome. Version 1 records written before shelving, assignment and outcomes
existed (`close_real`, `close_false_alarm`, none of the newer fields) still read: the fields
were added as optional, as the alert schema added its episode fields.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Self

from pydantic import ConfigDict, Field, model_validator

from streams.messages import Message


class ActionKind(StrEnum):
    acknowledge = "acknowledge"
    shelve = "shelve"
    escalate = "escalate"
    assign = "assign"
    close = "close"
    # Written by consoles before closes carried an outcome; read, never written again.
    close_real = "close_real"
    close_false_alarm = "close_false_alarm"

    @property
    def closes(self) -> bool:
        return self in (ActionKind.close, ActionKind.close_real, ActionKind.close_false_alarm)

    @property
    def legacy(self) -> bool:
        return self in (ActionKind.close_real, ActionKind.close_false_alarm)


class CloseOutcome(StrEnum):
    """What the operator found when closing: the three answers a control room gives."""

    confirmed_incident = "confirmed_incident"
    false_alarm = "false_alarm"
    authorised_presence = "authorised_presence"


# The field each kind of action carries, and only it: the model checks it, and so does the
# JSON Schema, so a consumer in another language refuses what the console would.
FIELD_OF_KIND = {
    ActionKind.shelve: "shelved_until",
    ActionKind.assign: "assignee",
    ActionKind.close: "outcome",
}
_ONE_FIELD_PER_KIND = [
    {
        "if": {"properties": {"action": {"const": kind.value}}, "required": ["action"]},
        "then": {"required": [name], "properties": {name: {"not": {"type": "null"}}}},
        "else": {"properties": {name: {"type": "null"}}},
    }
    for kind, name in FIELD_OF_KIND.items()
]

# The outcome a legacy close stands for.
LEGACY_OUTCOME = {
    ActionKind.close_real: CloseOutcome.confirmed_incident,
    ActionKind.close_false_alarm: CloseOutcome.false_alarm,
}


class OperatorAction(Message):
    """One action on one alert revision. The key on `operator-actions` is `alert_id`, so the
    actions on an alert stay in order on one partition."""

    SCHEMA_NAME: ClassVar[str] = "operator-action"
    SCHEMA_VERSION: ClassVar[int] = 1
    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_extra={"allOf": _ONE_FIELD_PER_KIND}
    )

    alert_id: str = Field(min_length=1, description="Alert acted on (the Kafka key)")
    alert_revision: int = Field(ge=1, description="Revision of the alert the operator saw")
    action: ActionKind = Field(description="What was done")
    reason: str = Field(
        min_length=1, max_length=2000, description="Why, in the operator's words; required"
    )
    operator: str = Field(min_length=1, description="User name of who did it")
    role: str = Field(min_length=1, description="Role the user held when doing it")
    console_id: str = Field(
        min_length=1, description="Console instance it came from, to tell consoles apart"
    )
    shelved_until: datetime | None = Field(
        default=None,
        description="Shelve only: when the alert returns (UTC), after the action's event time",
    )
    assignee: str | None = Field(
        default=None, min_length=1, max_length=64, description="Assign only: the operator to act"
    )
    outcome: CloseOutcome | None = Field(
        default=None, description="Close only: what the alert turned out to be"
    )

    @model_validator(mode="after")
    def _fields_of_its_kind(self) -> Self:
        # Each of the three belongs to one kind of action: required there, refused elsewhere.
        for kind, name in FIELD_OF_KIND.items():
            present = getattr(self, name) is not None
            if self.action is kind and not present:
                raise ValueError(f"a {kind} action needs {name}")
            if self.action is not kind and present:
                raise ValueError(f"{name} belongs to {kind} actions, not to {self.action}")
        if self.shelved_until is not None and self.shelved_until <= self.event_time:
            raise ValueError(
                f"shelved_until {self.shelved_until.isoformat()} is not after the action's "
                f"event time {self.event_time.isoformat()}"
            )
        return self

    @property
    def close_outcome(self) -> CloseOutcome | None:
        """The outcome of a close, legacy closes included; None for other actions."""
        return self.outcome or LEGACY_OUTCOME.get(self.action)
