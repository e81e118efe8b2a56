"""The correlator's state and decisions, with no broker in sight: testable step by step.

An alert is one zone episode (`episode.py`): the access incidents in a zone with no quiet gap
of `regroup_seconds` between them. Its id derives from the episode's first incident id, and
its revisions are a pure function of the inputs:

- revision 1 is the verdict as of the moment the first person was seen (`seen_at`), with the
  terminal news visible by then;
- every later point in (seen_at, last seen + grace] where news about the zone's containers
  became visible, or a rule fired for the first time in the episode, is judged again, and each
  change of severity, reason or rules is the next revision. More people in the same situation
  are not: the operator already has this alarm to handle, and a revision per person would
  re-announce it every few seconds (the flood the episode exists to avoid). They are listed
  with the next revision, and the console shows the episode's access events from it.

So a restart, a replay or a second instance computes the same revisions whatever the wall
clock, and publishing is idempotent by (alert id, revision): what was already published is
learnt back from the alerts topic and never sent again. What an episode took in without a
revision is not on the alerts topic: `held_positions` tells the correlator not to commit past
it, so a restart reads those access events again.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Hashable, Iterator, Mapping, Sequence
from datetime import UTC, datetime

from config.correlation import Correlation
from config.site import SiteConfig
from detectors.events import AccessRule
from streams.access import AccessEvent
from streams.alerts import Alert
from streams.correlator.blocks import YardBlockView
from streams.correlator.classify import Verdict, judge
from streams.correlator.episode import Episode, Standing
from streams.correlator.table import ContainerTable
from streams.terminal.events import ContainerEvent


def alert_id_for(incident_id: str) -> str:
    return "alert-" + hashlib.sha256(incident_id.encode()).hexdigest()[:24]


class CorrelationEngine:
    """Container table, zone episodes and the revisions they are due."""

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
        self.open_cases: dict[str, Episode] = {}
        self.settled: dict[str, int] = {}  # alert id -> last published revision
        # Per zone, by seen_at: the open episodes and always the latest one, settled or not,
        # which the next incident may still join.
        self._zone_episodes: dict[str, list[Episode]] = {}
        self._cases_by_block: dict[str, set[str]] = {}
        self._due: set[str] = set()

    @classmethod
    def for_site(cls, site: SiteConfig) -> CorrelationEngine:
        """The engine a correlator (or a replay) builds from a site config."""
        zones = {zone.id: zone.yard_blocks for zone in site.zones}
        return cls(site.correlation, site.config_hash(), zones)

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
                if fact.visible_at <= case.last_seen_at + self.correlation.grace_seconds:
                    self._due.add(alert_id)

    def on_access(self, event: AccessEvent, position: Hashable | None = None) -> list[Alert]:
        """Join the zone's episode or start a new one; `position` is where the event was read."""
        alert_id = alert_id_for(event.incident_id)
        moment = event.event_time.timestamp()
        episodes = self._zone_episodes.get(event.zone_id, [])
        index = bisect.bisect_right([e.seen_at for e in episodes], moment)
        episode = episodes[index - 1] if index else None
        if episode is not None and episode.joins(moment, self.correlation.regroup_seconds):
            if not episode.add(event, position):
                return []
            self._reopen(episode)
            return self.revisions_due(episode)
        if index < len(episodes) or alert_id in self.open_cases or alert_id in self.settled:
            # Before the zone's latest episode and not part of one: read again after a restart
            # (its episode long settled) or a straggler; later phases of an incident whose
            # alert stands also raise nothing new.
            return []
        blocks = self.zone_yard_blocks.get(event.zone_id, event.yard_blocks)
        episode = Episode.from_access(alert_id, event, blocks)
        episode.add(event, position)
        self._open(episode)
        return self.revisions_due(episode)

    def on_published(self, alert: Alert) -> None:
        """Learn a revision from the alerts topic (ours or another instance's)."""
        case = self.open_cases.get(alert.alert_id) or self._latest_with_id(alert)
        if case is not None:
            case.learn(alert)
            if alert.alert_id in self.settled:
                self.settled[alert.alert_id] = case.published_revision
            return
        if alert.alert_id in self.settled:
            self.settled[alert.alert_id] = max(self.settled[alert.alert_id], alert.revision)
            return
        self._open(Episode.from_alert(alert))
        self._due.add(alert.alert_id)  # a crash may have cut its revisions short

    # -- decisions ----------------------------------------------------------------------------

    def revise(self) -> list[Alert]:
        """Revisions due on cases touched by news since the last call."""
        # In event-time order: the yard block views then move forward in small steps.
        cases = sorted((self.open_cases[a] for a in self._due), key=_in_time)
        self._due = set()
        return [alert for case in cases for alert in self.revisions_due(case)]

    def timeline(self, case: Episode) -> list[tuple[float, Verdict, tuple[AccessRule, ...]]]:
        """Every distinct (verdict, rules) of the episode since its last published revision,
        at the event time it became due."""
        since = case.seen_at if case.published_as_of is None else case.published_as_of
        until = case.last_seen_at + self.correlation.grace_seconds
        news = self.table.change_points(case.yard_blocks, since, until)
        points = sorted({since, *news, *(t for t in case.rule_times() if since < t <= until)})
        sequence: list[tuple[float, Verdict, tuple[AccessRule, ...]]] = []
        for point in points:
            picture = self.view.picture(case.yard_blocks, point)
            verdict = judge(case.zone_id, case.yard_blocks, picture, self.correlation)
            rules = case.rules_at(point)
            if not sequence or not (verdict.same_as(sequence[-1][1]) and rules == sequence[-1][2]):
                sequence.append((point, verdict, rules))
        return sequence

    def revisions_due(self, case: Episode) -> list[Alert]:
        alerts = []
        # The first entry is the last published point judged again: when news arrived out of
        # event-time order and changed it, the alert must not stay wrong, so it goes out too.
        for point, verdict, rules in self.timeline(case):
            standing: Standing = (verdict.severity, verdict.reason, rules)
            if standing == case.published:
                continue
            because = _because(case.published, standing, point)
            revision = case.published_revision + 1
            alerts.append(self.alert(case, revision, point, verdict, rules, because))
            case.published, case.published_revision, case.published_as_of = (
                standing,
                revision,
                point,
            )
        if alerts:
            case.published_up_to(alerts[-1].as_of.timestamp())
        return alerts

    def settle(self) -> int:
        """Forget the details of cases whose grace period the terminal news has passed."""
        horizon = self.table.latest_visible_at - self.correlation.grace_seconds
        settled = [
            c
            for c in self.open_cases.values()
            if c.last_seen_at < horizon and c.alert_id not in self._due
        ]
        for case in settled:
            del self.open_cases[case.alert_id]
            for block in case.yard_blocks:
                self._cases_by_block[block].discard(case.alert_id)
            self.settled[case.alert_id] = case.published_revision
            episodes = self._zone_episodes[case.zone_id]
            if episodes[-1] is not case:  # the latest stays: the next incident may join it
                episodes.remove(case)
        return len(settled)

    def held_positions(self) -> Iterator[Hashable]:
        """Where the access events not yet reflected on the alerts topic were read."""
        for episodes in self._zone_episodes.values():
            for episode in episodes:
                if episode.unreflected_from is not None:
                    yield episode.unreflected_from

    def episode_of(self, zone_id: str) -> Episode | None:
        """The zone's latest episode."""
        episodes = self._zone_episodes.get(zone_id)
        return episodes[-1] if episodes else None

    def alert(
        self,
        case: Episode,
        revision: int,
        point: float,
        verdict: Verdict,
        rules: tuple[AccessRule, ...],
        revised_because: str,
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
            access_event_ids=case.access_event_ids_at(point),
            rules=list(rules),
            last_seen_at=datetime.fromtimestamp(case.last_seen_at_or_before(point), UTC),
            containers=list(verdict.containers),
            containers_in_zone=verdict.containers_in_zone,
            snapshot_sha256=case.snapshot_sha256,
            access_config_hash=case.access_config_hash,
            config_hash=self.config_hash,
        )

    def _open(self, case: Episode) -> None:
        self.open_cases[case.alert_id] = case
        for block in case.yard_blocks:
            self._cases_by_block.setdefault(block, set()).add(case.alert_id)
        episodes = self._zone_episodes.setdefault(case.zone_id, [])
        index = bisect.bisect_right([e.seen_at for e in episodes], case.seen_at)
        episodes.insert(index, case)
        # Episodes before the latest that had settled were kept only as the latest.
        for earlier in episodes[:-1]:
            if earlier.alert_id not in self.open_cases:
                episodes.remove(earlier)

    def _reopen(self, case: Episode) -> None:
        """A join brings a settled latest episode back: its grace period now runs longer."""
        if case.alert_id in self.open_cases:
            return
        self.settled.pop(case.alert_id, None)
        self.open_cases[case.alert_id] = case
        for block in case.yard_blocks:
            self._cases_by_block.setdefault(block, set()).add(case.alert_id)

    def _latest_with_id(self, alert: Alert) -> Episode | None:
        latest = self.episode_of(alert.zone_id)
        return latest if latest is not None and latest.alert_id == alert.alert_id else None


def _because(was: Standing | None, now: Standing, point: float) -> str:
    if was is None or (was[0], was[1]) != (now[0], now[1]):
        before = was[0] if was else None
        return f"terminal news visible at {_clock(point)} (was {before}, now {now[0]})"
    added = ", ".join(rule for rule in now[2] if rule not in was[2])
    return f"{added} fired in the zone at {_clock(point)}"


def _in_time(case: Episode) -> tuple[float, str]:
    return case.seen_at, case.alert_id


def _clock(moment: float) -> str:
    return f"{datetime.fromtimestamp(moment, UTC):%Y-%m-%d %H:%M:%S}Z"
