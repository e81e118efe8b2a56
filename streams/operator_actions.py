"""Operator actions: what an operator did with an alert, as published on `operator-actions`."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from streams.messages import Message


class ActionKind(StrEnum):
    acknowledge = "acknowledge"
    escalate = "escalate"
    close_real = "close_real"
    close_false_alarm = "close_false_alarm"

    @property
    def closes(self) -> bool:
        return self in (ActionKind.close_real, ActionKind.close_false_alarm)


class OperatorAction(Message):
    """One action on one alert revision. The key on `operator-actions` is `alert_id`, so the
    actions on an alert stay in order on one partition."""

    SCHEMA_NAME: ClassVar[str] = "operator-action"
    SCHEMA_VERSION: ClassVar[int] = 1

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
