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

Which episodes this engine publishes for, and how far in event time, is `judged_up_to(zone
id)`: None for a zone whose access partition another instance owns (it only learns their
revisions), otherwise the moment up to which the zone's access events and the terminal news
have all been read. An episode is judged no further than that, and stays due until it has been
judged to the end of its grace period, so every run judges each moment knowing the same inputs.
"""

from __future__ import annotations

import hashlib
import heapq
import math
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, tzinfo

from sortedcontainers import SortedKeyList

from config.clock import site_time, zone_of
from config.correlation import Correlation
from config.site import SiteConfig
from streams.access import AccessEvent
from streams.alerts import Alert
from streams.correlator.blocks import YardBlockView
from streams.correlator.classify import judge
from streams.correlator.episode import Episode, Standing
from streams.correlator.recent import RecentAlerts, SettledAlerts
from streams.correlator.table import ContainerTable
from streams.correlator.timeline import JudgedPoints, Judgement, revision_of
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
        zone: tzinfo = UTC,
    ) -> None:
        self.correlation = correlation
        self.zone = zone  # the site's: the times alert reasons quote
        self.config_hash = config_hash
        # The correlator's own site config decides which blocks a zone covers, so a replay
        # with another config can answer differently; unknown zones keep the worker's blocks.
        self.zone_yard_blocks = dict(zone_yard_blocks or {})
        self.table = table or ContainerTable()
        self.view = YardBlockView(self.table, correlation)
        self.open_episodes: dict[str, Episode] = {}
        self.settled = SettledAlerts()  # alert id -> last published revision
        # Alerts last seen within `rebuild_hours` of the latest news, whoever published them.
        self.recent = RecentAlerts()
        # Per zone, by seen_at: the open episodes and always the latest one, settled or not,
        # which the next incident may still join.
        self._zone_episodes: dict[str, SortedKeyList] = {}
        # Per yard block, the open episodes that news about it can change; not those learnt
        # from the alerts topic and not yet judged (`_unjudged`).
        self._episodes_by_block: dict[str, set[str]] = {}
        self._due: set[str] = set()
        # Due, with nothing judged: news about their blocks has nothing to forget and nothing
        # to make due, so it passes them by until they are first judged. A start-up read
        # learns weeks of alerts before it judges any, and would otherwise walk them all
        # for every container event it reads after them.
        self._unjudged: set[str] = set()
        self._judged: dict[str, JudgedPoints] = {}  # open alert id -> its timeline so far
        # (last sighting, alert id) of every open episode, earliest first, so that settling
        # looks only at those the news has passed; an entry whose episode was seen again
        # since is stale and skipped (the newer sighting has its own entry).
        self._quiet: list[tuple[float, str]] = []
        self.judged_up_to: Callable[[str], float | None] = _every_moment

    @classmethod
    def for_site(cls, site: SiteConfig) -> CorrelationEngine:
        """The engine a correlator (or a replay) builds from a site config."""
        zones = {zone.id: zone.yard_blocks for zone in site.zones}
        return cls(site.correlation, site.config_hash(), zones, zone=zone_of(site.site.timezone))

    # -- inputs -------------------------------------------------------------------------------

    def on_container_event(self, event: ContainerEvent) -> None:
        fact = self.table.add(event)
        if fact is None:
            return
        # The table counts the fact's own block among the container's blocks.
        for block in self.table.blocks_of(event.container_number):
            for alert_id in self._episodes_by_block.get(block, ()):
                self._judged[alert_id].forget_from(fact.visible_at)
                episode = self.open_episodes[alert_id]
                if fact.visible_at <= episode.last_seen_at + self.correlation.grace_seconds:
                    self._due.add(alert_id)

    def on_access(self, event: AccessEvent, position: Hashable | None = None) -> list[Alert]:
        """Join the zone's episode or start a new one; `position` is where the event was read."""
        alert_id = alert_id_for(event.incident_id)
        moment = event.event_time.timestamp()
        episodes = self._zone_episodes.get(event.zone_id, _NO_EPISODES)
        index = episodes.bisect_key_right(moment)
        episode = episodes[index - 1] if index else None
        if episode is not None and episode.joins(moment, self.correlation.regroup_seconds):
            rules = len(episode.first_firings)
            if not episode.add(event, position):
                return []
            self._reopen(episode)
            if len(episode.first_firings) > rules:  # a rule new to the episode fired
                self._judged[episode.alert_id].forget_from(episode.first_firings[-1].fired_at)
            self._watch(episode)
            return self.revisions_due(episode)
        if index < len(episodes) or alert_id in self.open_episodes or alert_id in self.settled:
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
        self.recent.remember(alert)
        episode = self.open_episodes.get(alert.alert_id) or self._latest_with_id(alert)
        if episode is not None:
            if episode.learn(alert) and alert.alert_id in self.open_episodes:
                # What it learnt (rules, sightings) can change any point of its timeline.
                self._judged[alert.alert_id] = JudgedPoints()
                self._watch(episode)
            if alert.alert_id in self.settled:
                self.settled[alert.alert_id] = episode.published_revision
            return
        if alert.alert_id in self.settled:
            self.settled[alert.alert_id] = max(self.settled[alert.alert_id], alert.revision)
            return
        self._open(Episode.from_alert(alert), due=True)  # a crash may have cut them short

    # -- decisions ----------------------------------------------------------------------------

    def revise(self) -> list[Alert]:
        """Revisions due on episodes touched by news since the last call."""
        if not self._due:
            return []
        # In event-time order: the yard block views then move forward in small steps.
        episodes_due = sorted((self.open_episodes[a] for a in self._due), key=_in_time)
        self._due = set()  # what revisions_due judges only part of the way comes back in
        return [alert for episode in episodes_due for alert in self.revisions_due(episode)]

    def timeline(self, episode: Episode, until: float) -> list[Judgement]:
        """Every distinct standing of the episode since its last published revision and up to
        `until`, judged at the event time it became due; points judged before and not changed
        since by news or a first firing are not judged again."""
        since = episode.seen_at if episode.published_as_of is None else episode.published_as_of
        news = self.table.change_points(episode.yard_blocks, since, until)
        points = sorted({since, *news, *(t for t in episode.rule_times() if since < t <= until)})
        judged = self._judged.get(episode.alert_id) or JudgedPoints()  # a settled one: afresh
        judged.forget_before(since)
        judged.through = until
        sequence: list[Judgement] = []
        last: Standing | None = None
        for point in points:
            judgement = judged.get(point)
            if judgement is None:
                picture = self.view.picture(episode.yard_blocks, point)
                verdict = judge(
                    episode.zone_id, episode.yard_blocks, picture, self.correlation, self.zone
                )
                judgement = Judgement(point, verdict, episode.rules_at(point))
                judged.keep(judgement)
            if (standing := judgement.standing) != last:
                sequence.append(judgement)
                last = standing
        return sequence

    def revisions_due(self, episode: Episode) -> list[Alert]:
        if episode.alert_id in self._unjudged:  # judged from now on, or no longer due
            self._unjudged.discard(episode.alert_id)
            self._follow_news(episode)
        judged_up_to = self.judged_up_to(episode.zone_id)
        if judged_up_to is None:
            return []  # another instance's: it publishes, this one learns
        end = episode.last_seen_at + self.correlation.grace_seconds
        if judged_up_to < end:
            self._due.add(episode.alert_id)  # the rest once the inputs have been read that far
        until = min(end, judged_up_to)
        if (judged := self._judged.get(episode.alert_id)) and judged.through == until:
            return []  # judged that far already, and nothing about it has changed since
        alerts = []
        # The first entry is the last published point judged again: when news arrived out of
        # event-time order and changed it, the alert must not stay wrong, so it goes out too.
        for judgement in self.timeline(episode, until):
            standing = judgement.standing
            if standing == episode.published:
                continue
            because = _because(episode.published, standing, judgement.as_of, self.zone)
            revision = episode.published_revision + 1
            alerts.append(revision_of(episode, revision, judgement, because, self.config_hash))
            episode.published, episode.published_revision, episode.published_as_of = (
                standing,
                revision,
                judgement.as_of,
            )
        if alerts:
            episode.published_up_to(alerts[-1].as_of.timestamp())
        return alerts

    def settle(self) -> int:
        """Forget the details of episodes whose grace period the terminal news has passed."""
        horizon = self.table.latest_visible_at - self.correlation.grace_seconds
        settled, due = 0, []
        while self._quiet and self._quiet[0][0] < horizon:
            last_seen_at, alert_id = heapq.heappop(self._quiet)
            episode = self.open_episodes.get(alert_id)
            if episode is None or episode.last_seen_at != last_seen_at:
                continue  # settled already, or seen again since (a later entry stands for it)
            if alert_id in self._due:
                due.append((last_seen_at, alert_id))  # revisions first, then it may settle
                continue
            settled += 1
            self._forget(episode)
            self.settled.settle(alert_id, episode.published_revision, last_seen_at)
            episodes = self._zone_episodes[episode.zone_id]
            if episodes[-1] is not episode:  # the latest stays: the next incident may join it
                episodes.remove(episode)
        for entry in due:
            heapq.heappush(self._quiet, entry)
        self.forget(self.table.latest_visible_at - self.correlation.forget_departed_days * 86400)
        return settled

    def restore_published(
        self, recent: Iterable[Alert], settled: Mapping[str, tuple[int, float]]
    ) -> None:
        """Take in what a checkpoint says the alerts topic held (streams.correlator.checkpoint):
        the settled alerts' ids, and the recent alerts, learnt as from the topic."""
        for alert_id, (revision, last_seen_at) in settled.items():
            self.settled.settle(alert_id, revision, last_seen_at)
        for alert in recent:
            self.settled.pop(alert.alert_id, None)  # as after a whole read: open until settled
            self.on_published(alert)

    def forget(self, before: float) -> None:
        """Containers gone from the terminal and ids of settled alerts, last seen before then;
        alerts no longer recent enough to rebuild."""
        self.table.forget_departed(before)
        self.forget_finished_alerts()
        self.settled.forget_before(before)

    def forget_finished_alerts(self) -> None:
        """Alerts last seen more than `rebuild_hours` before the latest news: none is rebuilt."""
        self.recent.forget_before(
            self.table.latest_visible_at - self.correlation.rebuild_hours * 3600
        )

    def rebuild(self, zone_ids: Collection[str], alerts: Iterable[Alert]) -> None:
        """Forget the episodes of the zones and build them again from `alerts`, the latest
        published revision of each of their alerts: what a new owner of their access partition
        knows before it reads the access events after the committed offset again."""
        for zone_id in zone_ids:
            for episode in self._zone_episodes.pop(zone_id, []):
                self._forget(episode)
        for episode in [e for e in self.open_episodes.values() if e.zone_id in zone_ids]:
            self._forget(episode)
        for alert in sorted(alerts, key=lambda a: (a.event_time, a.alert_id)):
            self.settled.pop(alert.alert_id, None)
            self._open(Episode.from_alert(alert), due=True)

    def _forget(self, episode: Episode) -> None:
        self.open_episodes.pop(episode.alert_id, None)
        self._judged.pop(episode.alert_id, None)
        self._due.discard(episode.alert_id)
        self._unjudged.discard(episode.alert_id)
        for block in episode.yard_blocks:
            self._episodes_by_block.get(block, set()).discard(episode.alert_id)

    def held_positions(self) -> Iterator[Hashable]:
        """Where the access events not yet reflected on the alerts topic were read."""
        for episodes in self._zone_episodes.values():
            for episode in episodes:
                if episode.unreflected_from is not None:
                    yield episode.unreflected_from

    def zone_ids(self) -> set[str]:
        """The zones with an episode in memory."""
        return set(self._zone_episodes)

    def episode_of(self, zone_id: str) -> Episode | None:
        """The zone's latest episode."""
        episodes = self._zone_episodes.get(zone_id)
        return episodes[-1] if episodes else None

    def _open(self, episode: Episode, due: bool = False) -> None:
        self._track(episode, due)
        episodes = self._zone_episodes.get(episode.zone_id)
        if episodes is None:
            episodes = self._zone_episodes[episode.zone_id] = SortedKeyList(key=_seen_at)
        episodes.add(episode)
        # Episodes before the latest that had settled were kept only as the latest.
        for earlier in episodes[:-1]:
            if earlier.alert_id not in self.open_episodes:
                episodes.remove(earlier)

    def _reopen(self, episode: Episode) -> None:
        """A join brings a settled latest episode back: its grace period now runs longer."""
        if episode.alert_id in self.open_episodes:
            return
        self.settled.pop(episode.alert_id, None)
        self._track(episode)

    def _track(self, episode: Episode, due: bool = False) -> None:
        """Count the episode open, with nothing judged, and touched by news about its yard
        blocks; one `due` is touched by none until it is first judged."""
        self.open_episodes[episode.alert_id] = episode
        self._judged[episode.alert_id] = JudgedPoints()  # nothing judged while it was settled
        if due:
            self._due.add(episode.alert_id)
            self._unjudged.add(episode.alert_id)
        else:
            self._follow_news(episode)
        self._watch(episode)

    def _follow_news(self, episode: Episode) -> None:
        for block in episode.yard_blocks:
            self._episodes_by_block.setdefault(block, set()).add(episode.alert_id)

    def _watch(self, episode: Episode) -> None:
        """Settle the episode once the news passes its (latest) last sighting."""
        heapq.heappush(self._quiet, (episode.last_seen_at, episode.alert_id))

    def _latest_with_id(self, alert: Alert) -> Episode | None:
        latest = self.episode_of(alert.zone_id)
        return latest if latest is not None and latest.alert_id == alert.alert_id else None


def _because(was: Standing | None, now: Standing, point: float, zone: tzinfo) -> str:
    if was is None or (was.severity, was.reason) != (now.severity, now.reason):
        before = was.severity if was else None
        visible = site_time(point, zone)
        return f"terminal news visible at {visible} (was {before}, now {now.severity})"
    added = ", ".join(rule for rule in now.rules if rule not in was.rules)
    return f"{added} fired in the zone at {site_time(point, zone)}"


def _seen_at(episode: Episode) -> float:
    return episode.seen_at


_NO_EPISODES = SortedKeyList(key=_seen_at)  # what a zone without episodes answers; never added to


def _every_moment(zone_id: str) -> float:
    return math.inf


def _in_time(episode: Episode) -> tuple[float, str]:
    return episode.seen_at, episode.alert_id
