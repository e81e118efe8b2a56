"""An operator's request to handle an alert, turned into the OperatorAction the console
publishes: acknowledge, shelve for a time, escalate, assign to a colleague, close with an
outcome. The checks of the message itself (which field goes with which kind) are the
message's own; this adds what only the console knows (who is an operator, what time it is)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from pydantic import BaseModel, Field, ValidationError, field_validator

from quaywatch.console.users import Role, UserStore
from streams.operator_actions import ActionKind, CloseOutcome, OperatorAction

# ISA-18.2 shelving is always for a limited time; a shift is the longest an alarm may be
# out of sight before someone has to decide again.
LONGEST_SHELF_MINUTES = 8 * 60


class ActionRefused(ValueError):
    """The request cannot become an action; the text says why, for the operator."""


class ActionRequest(BaseModel):
    action: ActionKind
    reason: str = Field(min_length=1, max_length=2000)
    revision: int = Field(ge=1, description="The revision the operator was looking at")
    shelve_minutes: int | None = Field(
        default=None, ge=1, le=LONGEST_SHELF_MINUTES, description="Shelve: for how long"
    )
    assignee: str | None = Field(
        default=None, min_length=1, max_length=64, description="Assign: to which operator"
    )
    outcome: CloseOutcome | None = Field(default=None, description="Close: what it was")

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, reason: str) -> str:
        if not reason.strip():
            raise ValueError("a reason is required: say why, in a few words")
        return reason.strip()

    @field_validator("action")
    @classmethod
    def _not_legacy(cls, action: ActionKind) -> ActionKind:
        if action.legacy:
            raise ValueError(f"{action} is only read from old records; close with an outcome")
        return action

    def to_action(
        self,
        *,
        alert_id: str,
        now: datetime,
        operator: str,
        role: Role,
        console_id: str,
        users: UserStore,
    ) -> OperatorAction:
        if self.assignee is not None:
            assignee = users.users().get(self.assignee)
            if assignee is None or assignee.role is not Role.operator:
                raise ActionRefused(f"no operator named {self.assignee!r} to assign the alert to")
        until = None
        if self.shelve_minutes is not None:
            until = now + timedelta(minutes=self.shelve_minutes)
        try:
            return OperatorAction.create(
                event_id=uuid.uuid4().hex,
                event_time=now,
                alert_id=alert_id,
                alert_revision=self.revision,
                action=self.action,
                reason=self.reason,
                operator=operator,
                role=role.value,
                console_id=console_id,
                shelved_until=until,
                assignee=self.assignee,
                outcome=self.outcome,
            )
        except ValidationError as invalid:
            # Named by what the operator sends: shelve_minutes, not the message's field.
            message = invalid.errors()[0]["msg"].removeprefix("Value error, ")
            raise ActionRefused(message.replace("shelved_until", "shelve_minutes")) from None
