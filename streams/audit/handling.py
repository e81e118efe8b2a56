"""What operators did with an alert, in the words the report shows (the console's words).

Each action reads as what it did: "acknowledged", "escalated", "shelved until <site time>",
"assigned to NAME", "closed: false alarm". Closes written before outcomes existed
(`close_real`, `close_false_alarm`) read as the outcomes they stand for (LEGACY_OUTCOME).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from config.clock import site_time
from streams.operator_actions import ActionKind, CloseOutcome, OperatorAction

OUTCOME_WORDS = {
    CloseOutcome.confirmed_incident: "confirmed incident",
    CloseOutcome.false_alarm: "false alarm",
    CloseOutcome.authorised_presence: "authorised presence",
}


def action_words(action: OperatorAction, zone: tzinfo) -> str:
    """What `action` did, e.g. 'shelved until 2026-12-01 23:41:07 +01:00'."""
    if action.action is ActionKind.acknowledge:
        return "acknowledged"
    if action.action is ActionKind.escalate:
        return "escalated"
    if action.action is ActionKind.shelve and action.shelved_until is not None:
        return f"shelved until {site_time(action.shelved_until, zone)}"
    if action.action is ActionKind.assign:
        return f"assigned to {action.assignee}"
    outcome = action.close_outcome
    if outcome is None:  # the model refuses a close without one; said rather than guessed
        return f"{action.action} (no outcome)"
    return f"closed: {OUTCOME_WORDS[outcome]}"


def handled(action: OperatorAction, zone: tzinfo) -> str:
    """When, who, what to which revision and why: one line of the report, e.g.
    '2026-12-01 23:11:07 +01:00 olga (operator) on r1: assigned to piet: guards sent'."""
    return f"{site_time(action.event_time, zone)} {who_did_what(action, zone)}"


def who_did_what(action: OperatorAction, zone: tzinfo) -> str:
    """`handled` without the time, for a timeline mark whose hover label starts with it."""
    return (
        f"{action.operator} ({action.role}) on r{action.alert_revision}: "
        f"{action_words(action, zone)}: {action.reason}"
    )


def final_outcome(actions: Sequence[OperatorAction]) -> str:
    """The outcome of the last close, in words; '' while the alert is not closed."""
    closes = [a.close_outcome for a in actions if a.action.closes and a.close_outcome]
    return OUTCOME_WORDS[closes[-1]] if closes else ""


def assignee(actions: Sequence[OperatorAction]) -> str:
    """Whom the alert was last assigned to; '' if nobody."""
    names = [a.assignee for a in actions if a.action is ActionKind.assign and a.assignee]
    return names[-1] if names else ""
