"""The correlator's state and decisions, with no broker in sight: testable step by step.

An alert is one access incident (its start, updates and end share `incident_id`). Its id is
derived from the incident id, and its revisions are a pure function of the inputs:

- revision 1 is the verdict as of the moment the person was seen (`seen_at`), with the
  terminal news visible by then;
- every later point in (seen_at, seen_at + grace] where news about the zone's containers
  became visible is re-judged, and each change of severity or reason is the next revision.

So a restart, a replay or a second instance computes the same revisions whatever the wall
clock, and publishing is idempotent by (alert id, revision): what was already published is
learnt back from the alerts topic and never sent again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from config.site import Correlation
from streams.access import AccessEvent
from streams.alerts import Alert, Severity
from streams.correlator.blocks import YardBlockView
from streams.correlator.classify import Verdict, judge
from streams.correlator.table import ContainerTable
from streams.terminal.events import ContainerEvent


def alert_id_for(incident_id: str) -> str:
    return "alert-" + hashlib.sha256(incident_id.encode()).hexdigest()[:24]


@dataclass
class AlertCase:
    """What an alert needs to be judged again: the access incident and what was published."""

    alert_id: str
    incident_id: str
    access_event_ids: tuple[str, ...]
    site_id: str
    zone_id: str
    camera_id: str
    yard_blocks: tuple[str, ...]
    seen_at: float
    snapshot_sha256: str | None
    access_config_hash: str
    published_revision: int = 0
    published: tuple[Severity, str] | None = None

    @classmethod
    def from_access(cls, event: AccessEvent, yard_blocks: Sequence[str]) -> AlertCase:
        return cls(
            alert_id=alert_id_for(event.incident_id),
            incident_id=event.incident_id,
            access_event_ids=(event.event_id,),
            site_id=event.site_id,
            zone_id=event.zone_id,
            camera_id=event.camera_id,
            yard_blocks=tuple(yard_blocks),
            seen_at=event.event_time.timestamp(),
            snapshot_sha256=event.snapshot_sha256,
            access_config_hash=event.config_hash,
        )

    @classmethod
    def from_alert(cls, alert: Alert) -> AlertCase:
        return cls(
            alert_id=alert.alert_id,
            incident_id=alert.incident_id,
            access_event_ids=tuple(alert.access_event_ids),
            site_id=alert.site_id,
            zone_id=alert.zone_id,
            camera_id=alert.camera_id,
            yard_blocks=tuple(alert.yard_blocks),
            seen_at=alert.event_time.timestamp(),
            snapshot_sha256=alert.snapshot_sha256,
            access_config_hash=alert.access_config_hash,
            published_revision=alert.revision,
            published=(alert.severity, alert.reason),
        )


class CorrelationEngine:
    """Container table, open alert cases and the revisions they are due."""

    def __init__(
        self,
        correlation: Correlation,
        config_hash: str,
        zone_yard_blocks: Mapping[str, Sequence[str]] | None = None,
        table: ContainerTable | None = None,
    ) -> None:
        self.correlation = correlation
        self.config_hash = config_hash
        # The correlator's own site config decides which blocks a zone covers, so a replay
        # with another config can answer differently; unknown zones keep the worker's blocks.
        self.zone_yard_blocks = dict(zone_yard_blocks or {})
        self.table = table or ContainerTable()
        self.view = YardBlockView(self.table, correlation)
        self.open_cases: dict[str, AlertCase] = {}
        self.settled: dict[str, int] = {}  # alert id -> last published revision
        self._cases_by_block: dict[str, set[str]] = {}
        self._due: set[str] = set()

    # -- inputs -------------------------------------------------------------------------------

    def on_container_event(self, event: ContainerEvent) -> None:
        fact = self.table.add(event)
        if fact is None:
            return
        blocks = {fact.yard_block} if fact.yard_block else set()
        blocks |= self.table.blocks_of(event.container_number)
        for block in blocks:
            for alert_id in self._cases_by_block.get(block, ()):
                case = self.open_cases[alert_id]
                if fact.visible_at <= case.seen_at + self.correlation.grace_seconds:
                    self._due.add(alert_id)

    def on_access(self, event: AccessEvent) -> list[Alert]:
        """Raise the alert for a new incident; later phases of a known incident add nothing."""
        alert_id = alert_id_for(event.incident_id)
        if alert_id in self.open_cases or alert_id in self.settled:
            return []
        blocks = self.zone_yard_blocks.get(event.zone_id, event.yard_blocks)
        self._open(AlertCase.from_access(event, blocks))
        self._due.discard(alert_id)
        return self.revisions_due(self.open_cases[alert_id])

    def on_published(self, alert: Alert) -> None:
        """Learn a revision from the alerts topic (ours or another instance's)."""
        if alert.alert_id in self.settled:
            self.settled[alert.alert_id] = max(self.settled[alert.alert_id], alert.revision)
            return
        case = self.open_cases.get(alert.alert_id)
        if case is None:
            self._open(AlertCase.from_alert(alert))
            self._due.add(alert.alert_id)  # a crash may have cut its revisions short
        elif alert.revision > case.published_revision:
            case.published_revision = alert.revision
            case.published = (alert.severity, alert.reason)

    # -- decisions ----------------------------------------------------------------------------

    def revise(self) -> list[Alert]:
        """Revisions due on cases touched by news since the last call."""
        # In event-time order: the yard block views then move forward in small steps.
        cases = sorted((self.open_cases[a] for a in self._due), key=_in_time)
        self._due = set()
        return [alert for case in cases for alert in self.revisions_due(case)]

    def verdicts(self, case: AlertCase) -> list[tuple[float, Verdict]]:
        """Every distinct verdict on the case, at the event time it became due."""
        until = case.seen_at + self.correlation.grace_seconds
        points = [case.seen_at, *self.table.change_points(case.yard_blocks, case.seen_at, until)]
        sequence: list[tuple[float, Verdict]] = []
        for point in points:
            picture = self.view.picture(case.yard_blocks, point)
            verdict = judge(case.zone_id, case.yard_blocks, picture, self.correlation)
            if not sequence or not verdict.same_as(sequence[-1][1]):
                sequence.append((point, verdict))
        return sequence

    def revisions_due(self, case: AlertCase) -> list[Alert]:
        sequence = self.verdicts(case)
        if case.published_revision < len(sequence):
            numbered = list(enumerate(sequence, start=1))[case.published_revision :]
        elif case.published != (sequence[-1][1].severity, sequence[-1][1].reason):
            # News arrived out of event-time order and changed an earlier point: the alert
            # must not stay wrong, so the current verdict goes out as the next revision.
            numbered = [(case.published_revision + 1, sequence[-1])]
        else:
            numbered = []
        alerts = []
        for revision, (point, verdict) in numbered:
            was = case.published[0] if case.published else None
            because = (
                f"terminal news visible at {_clock(point)} (was {was}, now {verdict.severity})"
            )
            alerts.append(self.alert(case, revision, point, verdict, because))
            case.published = (verdict.severity, verdict.reason)
        if alerts:
            case.published_revision = alerts[-1].revision
        return alerts

    def settle(self) -> int:
        """Forget the details of cases whose grace period the terminal news has passed."""
        horizon = self.table.latest_visible_at - self.correlation.grace_seconds
        settled = [
            c
            for c in self.open_cases.values()
            if c.seen_at < horizon and c.alert_id not in self._due
        ]
        for case in settled:
            del self.open_cases[case.alert_id]
            for block in case.yard_blocks:
                self._cases_by_block[block].discard(case.alert_id)
            self.settled[case.alert_id] = case.published_revision
        return len(settled)

    def alert(
        self, case: AlertCase, revision: int, point: float, verdict: Verdict, revised_because: str
    ) -> Alert:
        return Alert.create(
            event_id=f"{case.alert_id}:r{revision}",
            event_time=datetime.fromtimestamp(case.seen_at, UTC),
            alert_id=case.alert_id,
            revision=revision,
            severity=verdict.severity,
            reason=verdict.reason,
            revised_because=None if revision == 1 else revised_because,
            as_of=datetime.fromtimestamp(point, UTC),
            site_id=case.site_id,
            zone_id=case.zone_id,
            camera_id=case.camera_id,
            yard_blocks=list(case.yard_blocks),
            incident_id=case.incident_id,
            access_event_ids=list(case.access_event_ids),
            containers=list(verdict.containers),
            containers_in_zone=verdict.containers_in_zone,
            snapshot_sha256=case.snapshot_sha256,
            access_config_hash=case.access_config_hash,
            config_hash=self.config_hash,
        )

    def _open(self, case: AlertCase) -> None:
        self.open_cases[case.alert_id] = case
        for block in case.yard_blocks:
            self._cases_by_block.setdefault(block, set()).add(case.alert_id)


def _in_time(case: AlertCase) -> tuple[float, str]:
    return case.seen_at, case.alert_id


def _clock(moment: float) -> str:
    return f"{datetime.fromtimestamp(moment, UTC):%Y-%m-%d %H:%M:%S}Z"
