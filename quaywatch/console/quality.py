"""Alarm quality from operators' outcomes: per zone and rule, the alerts raised, how they were
closed, and the confirmed false-alarm rate, for engineers tuning zones and thresholds.

Tallied from the board, which holds every alert and action read from the topics since their
start: the figures are the same in every console and right after a restart, unlike the
closes counter a console keeps of its own publishing (that one feeds Prometheus).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from quaywatch.console.auth import Session
from quaywatch.console.board import AlertEntry, AlertState
from quaywatch.console.present import Moment
from streams.alerts import Alert
from streams.messages import utc_now
from streams.operator_actions import CloseOutcome

if TYPE_CHECKING:
    from quaywatch.console.app import ConsoleParts

# An alert whose episode fired no rule (old records) is still counted, under this rule.
NO_RULE = "unknown"


def rule_of(alert: Alert) -> str:
    """The rule an alert is counted under: its episode's rules joined, first seen first, as
    the closes counter labels them, so the console and the dashboard name the same rows."""
    return "+".join(alert.rules) or NO_RULE


class ZoneRuleQuality(BaseModel):
    """One zone and rule: what was raised there and what operators found when closing it."""

    model_config = ConfigDict(frozen=True)

    zone_id: str
    rule: str = Field(description="The alert's rules joined by '+', as the closes counter")
    raised: int = Field(description="Alerts on the board, expected presence included")
    open: int = Field(description="Raised and not closed (a re-alarmed close is open again)")
    closed: int = Field(description="Closed with an outcome")
    confirmed_incidents: int
    false_alarms: int
    authorised_presences: int = Field(
        description="A real person who was allowed there: not a false alarm of the camera"
    )
    false_alarm_rate: float | None = Field(
        description="False alarms over all closes; None while nothing is closed"
    )


class AlarmQuality(BaseModel):
    """The engineer's view: every zone and rule, and the site as a whole."""

    model_config = ConfigDict(frozen=True)

    as_of: Moment
    since: Moment | None = Field(description="Event time of the oldest alert counted")
    zones: list[ZoneRuleQuality] = Field(description="By zone, then rule")
    site: ZoneRuleQuality = Field(description="All zones and rules together")


def _tallied(zone_id: str, rule: str, entries: list[AlertEntry]) -> ZoneRuleQuality:
    outcomes = [entry.outcome for entry in entries if entry.state is AlertState.closed]
    closed = [outcome for outcome in outcomes if outcome is not None]
    false_alarms = closed.count(CloseOutcome.false_alarm)
    return ZoneRuleQuality(
        zone_id=zone_id,
        rule=rule,
        raised=len(entries),
        open=len(entries) - len(closed),
        closed=len(closed),
        confirmed_incidents=closed.count(CloseOutcome.confirmed_incident),
        false_alarms=false_alarms,
        authorised_presences=closed.count(CloseOutcome.authorised_presence),
        false_alarm_rate=false_alarms / len(closed) if closed else None,
    )


def alarm_quality(entries: Iterable[AlertEntry], as_of: datetime) -> AlarmQuality:
    """Tally the board's entries: each alert once, by its latest revision's zone and rules
    and its state at `as_of` (the entries' own clock)."""
    entries = list(entries)
    groups: dict[tuple[str, str], list[AlertEntry]] = {}
    for entry in entries:
        groups.setdefault((entry.alert.zone_id, rule_of(entry.alert)), []).append(entry)
    return AlarmQuality(
        as_of=as_of,
        since=min((entry.raised_at for entry in entries), default=None),
        zones=[_tallied(zone, rule, groups[zone, rule]) for zone, rule in sorted(groups)],
        site=_tallied("all zones", "all rules", entries),
    )


def add_quality_routes(app: FastAPI, parts: ConsoleParts, engineers: Any) -> None:
    """`engineers` is the app's role guard for engineers (as Depends)."""

    @app.get("/api/quality")
    def quality(session: Session = engineers) -> AlarmQuality:
        return alarm_quality(parts.board.entries(), utc_now())
