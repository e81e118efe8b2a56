"""A zone episode: the access incidents one alert stands for, and how much of it is published.

People walking through a zone one after another are one situation for the control room, not
one alarm each (ISA-18.2 / IEC 62682: an alarm flood hides the alarm that matters). An
incident joins the zone's latest episode while someone was seen there less than
`regroup_seconds` before; after a quiet gap the next incident starts a new episode.

Everything here is kept with its event time, so a revision at `as_of` lists exactly what was
seen up to then, whatever order the inputs were processed in or how often the process restarted.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

from sortedcontainers import SortedList

from detectors.events import AccessPhase, AccessRule
from streams.access import AccessEvent
from streams.alerts import Alert, Severity


@dataclass(frozen=True, slots=True)
class Standing:
    """What an operator reads off a revision; a revision is due only when this changes."""

    severity: Severity
    reason: str
    rules: tuple[AccessRule, ...]


# Ordered by time first: the episode keeps both lists sorted and reads them as of a moment.
@dataclass(frozen=True, slots=True, order=True)
class SeenAccessEvent:
    """An access event a revision lists: one per incident, its first event seen."""

    seen_at: float
    event_id: str


@dataclass(frozen=True, slots=True, order=True)
class FirstFiring:
    """When a rule first fired in the episode."""

    fired_at: float
    rule: AccessRule


@dataclass(eq=False)  # one episode is one alert: identity, not equal fields
class Episode:
    alert_id: str
    incident_id: str
    site_id: str
    zone_id: str
    camera_id: str
    yard_blocks: tuple[str, ...]
    seen_at: float
    snapshot_sha256: str | None
    access_config_hash: str
    access_events: list[SeenAccessEvent] = field(default_factory=list)
    # Event times of every access event, sorted: the episode lasts while these keep coming.
    sightings: SortedList = field(default_factory=SortedList)
    latest_sighting: float | None = None  # the last of `sightings`, read on every join
    first_firings: list[FirstFiring] = field(default_factory=list)
    published_revision: int = 0
    published: Standing | None = None
    published_as_of: float | None = None
    # Input position of the first access event not yet reflected on the alerts topic: the
    # correlator must not commit past it, or a restart would lose it.
    unreflected_from: Hashable | None = None
    # The ids `access_events` lists, to tell an event read again at once.
    listed_ids: set[str] = field(default_factory=set)

    @classmethod
    def from_access(cls, alert_id: str, event: AccessEvent, yard_blocks: Sequence[str]) -> Episode:
        return cls(
            alert_id=alert_id,
            incident_id=event.incident_id,
            site_id=event.site_id,
            zone_id=event.zone_id,
            camera_id=event.camera_id,
            yard_blocks=tuple(yard_blocks),
            seen_at=event.event_time.timestamp(),
            snapshot_sha256=event.snapshot_sha256,
            access_config_hash=event.config_hash,
        )

    @classmethod
    def from_alert(cls, alert: Alert) -> Episode:
        """An episode as far as the alerts topic tells; held-back access events fill in the rest."""
        seen_at = alert.event_time.timestamp()
        episode = cls(
            alert_id=alert.alert_id,
            incident_id=alert.incident_id,
            site_id=alert.site_id,
            zone_id=alert.zone_id,
            camera_id=alert.camera_id,
            yard_blocks=tuple(alert.yard_blocks),
            seen_at=seen_at,
            snapshot_sha256=alert.snapshot_sha256,
            access_config_hash=alert.access_config_hash,
        )
        episode.learn(alert)
        return episode

    @property
    def last_seen_at(self) -> float:
        return self.seen_at if self.latest_sighting is None else self.latest_sighting

    def joins(self, moment: float, regroup_seconds: float) -> bool:
        return moment - self.last_seen_at < regroup_seconds

    def add(self, event: AccessEvent, position: Hashable | None = None) -> bool:
        """Take in an access event of the episode; False when it was already in."""
        moment = event.event_time.timestamp()
        if event.event_id in self.listed_ids:
            return False  # read again after a restart
        # An incident counts once, by its start; its updates and end only say the zone is busy.
        first_of_episode = not self.access_events
        if event.phase is AccessPhase.start or first_of_episode:
            self.access_events.append(SeenAccessEvent(moment, event.event_id))
            self.listed_ids.add(event.event_id)
        self._sighted(moment)
        if all(first.rule != event.rule for first in self.first_firings):
            self.first_firings.append(FirstFiring(moment, event.rule))
        if self.unreflected_from is None and (
            self.published_as_of is None or moment > self.published_as_of
        ):
            self.unreflected_from = position
        return True

    def learn(self, alert: Alert) -> bool:
        """Take in a published revision (ours or another instance's); False when it was known."""
        if alert.revision <= self.published_revision:
            return False
        self.published_revision = alert.revision
        self.published = Standing(alert.severity, alert.reason, tuple(alert.rules))
        self.published_as_of = alert.as_of.timestamp()
        # What it lists was seen by `as_of`; the episode's start stands in for the exact times,
        # and the alert's order is kept, so the next revision lists them as the last one did.
        listed = set(alert.access_event_ids)
        self.access_events = [SeenAccessEvent(self.seen_at, i) for i in alert.access_event_ids] + [
            seen for seen in self.access_events if seen.event_id not in listed
        ]
        self.listed_ids |= listed
        last_seen = alert.last_seen_at.timestamp() if alert.last_seen_at else self.seen_at
        self._sighted(last_seen)
        self.first_firings = [FirstFiring(self.seen_at, rule) for rule in alert.rules] + [
            first for first in self.first_firings if first.rule not in alert.rules
        ]
        return True

    def _sighted(self, moment: float) -> None:
        self.sightings.add(moment)
        if self.latest_sighting is None or moment > self.latest_sighting:
            self.latest_sighting = moment

    def published_up_to(self, as_of: float) -> None:
        if as_of >= self.last_seen_at:
            self.unreflected_from = None

    # -- the episode as of a moment ---------------------------------------------------------

    def rules_at(self, moment: float) -> tuple[AccessRule, ...]:
        return tuple(first.rule for first in self.first_firings if first.fired_at <= moment)

    def rule_times(self) -> list[float]:
        return [first.fired_at for first in self.first_firings]

    def access_event_ids_at(self, moment: float) -> list[str]:
        return [seen.event_id for seen in self.access_events if seen.seen_at <= moment]

    def last_seen_at_or_before(self, moment: float) -> float:
        index = self.sightings.bisect_right(moment)
        return self.sightings[index - 1] if index else self.seen_at
