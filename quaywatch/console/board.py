"""The console's materialised view of its topics: latest revision per alert, actions per alert,
latest health per camera, the access events alerts rest on (with their clips) and the yard.
Fed by the topic reader, read by the web app; no Kafka in here."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from quaywatch.console.yard import Yard
from streams.access import AccessEvent
from streams.alerts import Alert, ContainerAtAlert, Severity
from streams.camera_health import CameraHealth
from streams.messages import utc_now
from streams.operator_actions import ActionKind, CloseOutcome, OperatorAction
from streams.terminal.events import ContainerEvent

SEVERITY_RANK = {
    Severity.critical: 3,
    Severity.high: 2,
    Severity.medium: 1,
    Severity.suppressed: 0,
}


class AlertState(StrEnum):
    """ISA-18.2's alarm states, as an operator handles them.

    `expected` is presence the correlator judged expected (an inspection under way, a work
    window): it is shown for the record, never as an alarm waiting for acknowledgement.
    `shelved` returns to `unacknowledged` (or `expected`) when its time ends.
    `escalated` is handed on, still open.
    """

    unacknowledged = "unacknowledged"
    expected = "expected"
    acknowledged = "acknowledged"
    shelved = "shelved"
    escalated = "escalated"
    closed = "closed"

    @property
    def open(self) -> bool:
        return self is not AlertState.closed


_STATE_AFTER = {
    ActionKind.acknowledge: AlertState.acknowledged,
    ActionKind.shelve: AlertState.shelved,
    ActionKind.escalate: AlertState.escalated,
    ActionKind.close: AlertState.closed,
    ActionKind.close_real: AlertState.closed,
    ActionKind.close_false_alarm: AlertState.closed,
}


def handles(action: OperatorAction) -> bool:
    """Whether the action is a response to the alarm; assigning it to someone is not."""
    return action.action in _STATE_AFTER


@dataclass(frozen=True)
class Revision:
    revision: int
    severity: Severity


@dataclass(frozen=True)
class AccessSighting:
    """An access event as an alert's detail lists it: when, by which camera, and its clip."""

    event_id: str
    incident_id: str
    event_time: datetime
    camera_id: str
    zone_id: str
    phase: str
    rule: str


@dataclass(frozen=True)
class AlertEntry:
    """An alert as the console shows it: its latest revision and what operators did with it,
    judged at `now` (a shelf ends by the clock)."""

    alert: Alert
    raised_at: datetime  # event time of the first revision seen; the list sorts on it
    # When the first revision seen reached the topic: nobody could act on it before.
    first_published_at: datetime
    severities: dict[int, Severity]  # by revision
    actions: tuple[OperatorAction, ...]
    now: datetime
    sightings: tuple[AccessSighting, ...] = ()
    clip_sha256: str | None = None

    @property
    def revisions(self) -> list[Revision]:
        return [Revision(*revision) for revision in sorted(self.severities.items())]

    @property
    def last_action(self) -> OperatorAction | None:
        return self.actions[-1] if self.actions else None

    @property
    def _last_response(self) -> OperatorAction | None:
        responses = [action for action in self.actions if handles(action)]
        return responses[-1] if responses else None

    @property
    def at_risk(self) -> ContainerAtAlert | None:
        return self.alert.containers[0] if self.alert.containers else None

    @property
    def container_numbers(self) -> list[str]:
        return [container.container_number for container in self.alert.containers]

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
        waiting = (
            AlertState.expected
            if self.alert.severity is Severity.suppressed
            else AlertState.unacknowledged
        )
        last = self._last_response
        if last is None:
            return waiting
        # An alert that got worse after the operator handled it needs handling again, as
        # ISA-18.2 asks for a re-alarm: its severity rose at a revision they had not seen.
        seen = self.severities.get(last.alert_revision)
        if seen is not None and any(
            revision > last.alert_revision and SEVERITY_RANK[severity] > SEVERITY_RANK[seen]
            for revision, severity in self.severities.items()
        ):
            return waiting
        if last.shelved_until is not None and last.shelved_until <= self.now:
            return waiting  # the shelf ran out: the alarm is back
        return _STATE_AFTER[last.action]

    @property
    def shelved_until(self) -> datetime | None:
        last = self._last_response
        return last.shelved_until if self.state is AlertState.shelved and last else None

    @property
    def outcome(self) -> CloseOutcome | None:
        last = self._last_response
        return last.close_outcome if self.state is AlertState.closed and last else None

    @property
    def assignee(self) -> str | None:
        assigned = [action.assignee for action in self.actions if action.assignee]
        return assigned[-1] if assigned else None

    @property
    def time_to_acknowledge_seconds(self) -> float | None:
        """From the alert reaching the topic to its first response (acknowledge, shelve,
        escalate or close: each means an operator took it on); None while nobody has."""
        responses = [action for action in self.actions if handles(action)]
        if not responses:
            return None
        return max(0.0, (responses[0].event_time - self.first_published_at).total_seconds())

    def sort_key(self) -> tuple[int, int, float]:
        # Open alarms first, then shelved ones and expected presence (out of the operator's
        # way, as ISA-18.2 wants shelved alarms), then closed; then severity, newest first.
        state = self.state
        quiet = state in (AlertState.shelved, AlertState.expected)
        group = 2 if not state.open else 1 if quiet else 0
        return (group, -SEVERITY_RANK[self.alert.severity], -self.raised_at.timestamp())


Listener = Callable[[], None]


class Board:
    """Thread-safe: the reader thread applies messages, request handlers read snapshots.

    Every message is applied idempotently (a redelivered revision or action changes nothing),
    so reading the topics from the beginning after a restart rebuilds the same board.
    """

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._alerts: dict[str, Alert] = {}
        self._raised_at: dict[str, datetime] = {}
        self._published_at: dict[str, datetime] = {}
        # Access events by id, and each incident's clip: what an alert's detail shows of the
        # camera's side. Read from `access`, so the clip is the one the audit chain covers.
        self._sightings: dict[str, AccessSighting] = {}
        self._clips: dict[str, str] = {}
        self.yard = Yard()
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
            published = alert.published_at or alert.event_time
            first = self._published_at.get(alert.alert_id)
            if first is None or published < first:
                self._published_at[alert.alert_id] = published
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

    def apply_access(self, event: AccessEvent) -> None:
        with self._lock:
            if event.event_id in self._sightings:
                return
            self._sightings[event.event_id] = AccessSighting(
                event_id=event.event_id,
                incident_id=event.incident_id,
                event_time=event.event_time,
                camera_id=event.camera_id,
                zone_id=event.zone_id,
                phase=event.phase.value,
                rule=event.rule.value,
            )
            if event.clip_sha256:
                self._clips.setdefault(event.incident_id, event.clip_sha256)
        self._changed()

    def apply_container(self, event: ContainerEvent) -> None:
        if self.yard.apply_container(event):
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

    def next_shelf_end(self) -> datetime | None:
        """When the next shelved alert returns, so the live page is pushed at that moment."""
        with self._lock:
            ends = [
                until
                for alert_id in self._alerts
                if (until := self._entry(alert_id).shelved_until) is not None
            ]
        return min(ends, default=None)

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
        alert = self._alerts[alert_id]
        return AlertEntry(
            alert=alert,
            raised_at=self._raised_at[alert_id],
            first_published_at=self._published_at[alert_id],
            severities=dict(self._severities[alert_id]),
            actions=tuple(self._actions.get(alert_id, ())),
            now=self._clock(),
            sightings=tuple(
                sighting
                for event_id in alert.access_event_ids
                if (sighting := self._sightings.get(event_id)) is not None
            ),
            clip_sha256=self._clips.get(alert.incident_id),
        )

    def _changed(self) -> None:
        with self._lock:
            self.version += 1
            listeners = list(self._listeners)
        for listener in listeners:
            listener()
