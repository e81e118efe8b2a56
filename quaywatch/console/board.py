"""The console's materialised view of its topics: latest revision per alert, actions per alert,
latest health per camera. Fed by the topic reader, read by the web app; no Kafka in here."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from streams.alerts import Alert, Severity
from streams.camera_health import CameraHealth
from streams.operator_actions import ActionKind, OperatorAction

SEVERITY_RANK = {
    Severity.critical: 3,
    Severity.high: 2,
    Severity.medium: 1,
    Severity.suppressed: 0,
}


class AlertState(StrEnum):
    """ISA-18.2 words where they fit; `escalated` is handed on, still open."""

    unacknowledged = "unacknowledged"
    acknowledged = "acknowledged"
    escalated = "escalated"
    closed_real = "closed_real"
    closed_false_alarm = "closed_false_alarm"

    @property
    def open(self) -> bool:
        return self not in (AlertState.closed_real, AlertState.closed_false_alarm)


_STATE_AFTER = {
    ActionKind.acknowledge: AlertState.acknowledged,
    ActionKind.escalate: AlertState.escalated,
    ActionKind.close_real: AlertState.closed_real,
    ActionKind.close_false_alarm: AlertState.closed_false_alarm,
}


@dataclass(frozen=True)
class Revision:
    revision: int
    severity: Severity


@dataclass(frozen=True)
class AlertEntry:
    """An alert as the console shows it: its latest revision and what operators did with it."""

    alert: Alert
    raised_at: datetime  # event time of the first revision seen; the list sorts on it
    severities: dict[int, Severity]  # by revision
    actions: tuple[OperatorAction, ...]

    @property
    def revisions(self) -> list[Revision]:
        return [Revision(*revision) for revision in sorted(self.severities.items())]

    @property
    def last_action(self) -> OperatorAction | None:
        return self.actions[-1] if self.actions else None

    @property
    def upgraded_from(self) -> Severity | None:
        """The severity just before the latest rise, if the latest revision raised it."""
        earlier = [revision for revision in self.severities if revision < self.alert.revision]
        if not earlier:
            return None
        before = self.severities[max(earlier)]
        return before if SEVERITY_RANK[self.alert.severity] > SEVERITY_RANK[before] else None

    @property
    def state(self) -> AlertState:
        if not self.actions:
            return AlertState.unacknowledged
        last = self.actions[-1]
        # An alert that got worse after the operator handled it needs handling again, as
        # ISA-18.2 asks for a re-alarm: its severity rose at a revision they had not seen.
        seen = self.severities.get(last.alert_revision)
        if seen is not None and any(
            revision > last.alert_revision and SEVERITY_RANK[severity] > SEVERITY_RANK[seen]
            for revision, severity in self.severities.items()
        ):
            return AlertState.unacknowledged
        return _STATE_AFTER[last.action]

    def sort_key(self) -> tuple[int, int, float]:
        # Open before closed, then severity, then newest first.
        return (
            0 if self.state.open else 1,
            -SEVERITY_RANK[self.alert.severity],
            -self.raised_at.timestamp(),
        )


Listener = Callable[[], None]


class Board:
    """Thread-safe: the reader thread applies messages, request handlers read snapshots.

    Every message is applied idempotently (a redelivered revision or action changes nothing),
    so reading the topics from the beginning after a restart rebuilds the same board.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._alerts: dict[str, Alert] = {}
        self._raised_at: dict[str, datetime] = {}
        self._severities: dict[str, dict[int, Severity]] = {}
        # Kept apart from the alerts: an action can be read before its alert when the two
        # topics are read at different speeds.
        self._actions: dict[str, list[OperatorAction]] = {}
        self._action_ids: set[str] = set()
        self._health: dict[str, CameraHealth] = {}
        self._listeners: list[Listener] = []
        self.version = 0

    # -- applying messages (reader thread) ----------------------------------------------------

    def apply_alert(self, alert: Alert) -> None:
        with self._lock:
            self._severities.setdefault(alert.alert_id, {})[alert.revision] = alert.severity
            raised = self._raised_at.get(alert.alert_id)
            if raised is None or alert.event_time < raised:
                self._raised_at[alert.alert_id] = alert.event_time
            current = self._alerts.get(alert.alert_id)
            if current is None or alert.revision > current.revision:
                self._alerts[alert.alert_id] = alert
        self._changed()

    def apply_action(self, action: OperatorAction) -> None:
        with self._lock:
            if action.event_id in self._action_ids:
                return
            self._action_ids.add(action.event_id)
            actions = self._actions.setdefault(action.alert_id, [])
            actions.append(action)
            actions.sort(key=lambda a: (a.event_time, a.event_id))
        self._changed()

    def apply_health(self, health: CameraHealth) -> None:
        with self._lock:
            current = self._health.get(health.camera_id)
            if current is not None and health.event_time < current.event_time:
                return
            self._health[health.camera_id] = health
        self._changed()

    # -- reading (request handlers) -------------------------------------------------------------

    def entries(self) -> list[AlertEntry]:
        """Every alert, in the order the list shows them."""
        with self._lock:
            entries = [self._entry(alert_id) for alert_id in self._alerts]
        return sorted(entries, key=AlertEntry.sort_key)

    def entry(self, alert_id: str) -> AlertEntry | None:
        with self._lock:
            return self._entry(alert_id) if alert_id in self._alerts else None

    def actions(self) -> list[OperatorAction]:
        """All actions, newest first."""
        with self._lock:
            every = [action for actions in self._actions.values() for action in actions]
        return sorted(every, key=lambda a: (a.event_time, a.event_id), reverse=True)

    def cameras(self) -> list[CameraHealth]:
        with self._lock:
            return sorted(self._health.values(), key=lambda health: health.camera_id)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` (from the reader thread) after every change; returns unsubscribe."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _entry(self, alert_id: str) -> AlertEntry:
        return AlertEntry(
            alert=self._alerts[alert_id],
            raised_at=self._raised_at[alert_id],
            severities=dict(self._severities[alert_id]),
            actions=tuple(self._actions.get(alert_id, ())),
        )

    def _changed(self) -> None:
        with self._lock:
            self.version += 1
            listeners = list(self._listeners)
        for listener in listeners:
            listener()
