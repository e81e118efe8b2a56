"""Replay: the recorded access and terminal events of a range through the correlation engine,
and the difference between the alerts it raises and the alerts that were recorded.

The engine is the correlator's own (`CorrelationEngine`); inputs are fed in the order they
reached the broker (record time), and after each one the engine revises and settles as the
live loop does after each turn, so late news that came too late live also comes too late here.
At the end every episode is judged to its end, as live once a partition has been quiet; a log
that ends before then (a correlator stopped at once) lacks those revisions, yet to come.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from pydantic import ValidationError
from tqdm import tqdm

from config.clock import footage_time, site_time
from config.site import SiteConfig
from streams.access import AccessEvent
from streams.alerts import Alert, Severity
from streams.audit.records import LoggedRecord, RecordedLog, TimeRange
from streams.collector import collector_paused
from streams.correlator.engine import CorrelationEngine, alert_id_for
from streams.record_check import RecordCheck
from streams.topics import ACCESS, ALERTS, TERMINAL

# Below this many inputs a progress bar is only noise.
PROGRESS_FROM = 5000


@dataclass(frozen=True)
class AlertHistory:
    """An alert's revisions as (revision, severity), first to last."""

    alert_id: str
    zone_id: str
    event_time: datetime
    revisions: tuple[tuple[int, Severity], ...]
    camera_id: str = ""

    @property
    def last(self) -> tuple[int, Severity]:
        return self.revisions[-1]

    def describe(self, zone: tzinfo = UTC, replaying: frozenset[str] = frozenset()) -> str:
        """In words; a camera in `replaying` replays footage, so its time is footage time."""
        return f"{self.alert_id} zone {self.zone_id} seen {self.seen(zone, replaying)}"

    def seen(self, zone: tzinfo = UTC, replaying: frozenset[str] = frozenset()) -> str:
        clock = footage_time if self.camera_id in replaying else site_time
        return clock(self.event_time, zone)


def histories(alerts: Iterable[Alert]) -> dict[str, AlertHistory]:
    """One history per alert id; a revision delivered twice counts once."""
    by_id: dict[str, dict[int, Alert]] = {}
    for alert in alerts:
        by_id.setdefault(alert.alert_id, {})[alert.revision] = alert
    return {
        alert_id: AlertHistory(
            alert_id=alert_id,
            zone_id=revisions[min(revisions)].zone_id,
            event_time=revisions[min(revisions)].event_time,
            revisions=tuple((n, revisions[n].severity) for n in sorted(revisions)),
            camera_id=revisions[min(revisions)].camera_id,
        )
        for alert_id, revisions in sorted(by_id.items())
    }


@dataclass(frozen=True)
class ReplayDiff:
    """What a replay would have changed against the recorded alerts."""

    added: list[AlertHistory] = field(default_factory=list)
    dropped: list[AlertHistory] = field(default_factory=list)
    changed: list[tuple[AlertHistory, AlertHistory]] = field(default_factory=list)  # was, now
    compared: int = 0
    # Recorded as replayed as far as the log goes: the revisions after are those the live
    # correlator publishes once the zone's access partition has been quiet (read to its end
    # for correlation.quiet_partition_seconds), and the log ends before it was.
    yet_to_come: list[tuple[AlertHistory, AlertHistory]] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return not (self.added or self.dropped or self.changed)

    def render(self, zone: tzinfo = UTC, replaying: frozenset[str] = frozenset()) -> str:
        """In words, with the times in the site's `zone`, labelled footage time where the
        alert's camera is one of those `replaying` footage (a camera with a start_time)."""
        if self.matches:
            verdict = f"replay matches the recorded alerts: {self.compared} alerts identical"
            if self.yet_to_come:
                verdict += (
                    f", {len(self.yet_to_come)} as far as the log goes (their next revisions "
                    "were due once the zone's access partition had been quiet for "
                    "correlation.quiet_partition_seconds, after the log ends)"
                )
            return "\n".join([verdict, *self._yet_to_come(zone, replaying)])
        lines = [
            f"replay differs from the recorded alerts ({self.compared} compared): "
            f"{len(self.added)} added, {len(self.dropped)} dropped, {len(self.changed)} changed"
        ]
        lines += [f"  added:   {a.describe(zone, replaying)}: {_steps(a)}" for a in self.added]
        lines += [f"  dropped: {a.describe(zone, replaying)}: {_steps(a)}" for a in self.dropped]
        for was, now in self.changed:
            what = "severity changed" if was.last[1] != now.last[1] else "revisions changed"
            lines.append(f"  {what}: {was.describe(zone, replaying)}")
            lines.append(f"      recorded: {_steps(was)}")
            lines.append(f"      replayed: {_steps(now)}")
        return "\n".join(lines + self._yet_to_come(zone, replaying))

    def _yet_to_come(self, zone: tzinfo, replaying: frozenset[str]) -> list[str]:
        return [
            f"  yet to come: {was.describe(zone, replaying)}: {_steps(now, after=was.last[0])}"
            for was, now in self.yet_to_come
        ]


def _steps(history: AlertHistory, after: int = 0) -> str:
    return " -> ".join(
        f"{severity} (r{revision})" for revision, severity in history.revisions if revision > after
    )


def compare(
    recorded: dict[str, AlertHistory],
    replayed: dict[str, AlertHistory],
    as_read: dict[str, AlertHistory] | None = None,
) -> ReplayDiff:
    """`as_read`: the replayed histories as far as each access partition was read, without
    the revisions only a partition quiet at the end of the log brings; a recorded history
    that stops between those and the whole replayed one is yet to come, not changed."""
    changed, yet_to_come = [], []
    for alert_id in sorted(recorded.keys() & replayed.keys()):
        was, now = recorded[alert_id], replayed[alert_id]
        if was.revisions == now.revisions:
            continue
        read = as_read.get(alert_id) if as_read is not None else None
        recorded_count = len(was.revisions)
        if (
            read is not None
            and len(read.revisions) <= recorded_count < len(now.revisions)
            and now.revisions[:recorded_count] == was.revisions
        ):
            yet_to_come.append((was, now))
        else:
            changed.append((was, now))
    return ReplayDiff(
        added=[replayed[i] for i in sorted(replayed.keys() - recorded.keys())],
        dropped=[recorded[i] for i in sorted(recorded.keys() - replayed.keys())],
        changed=changed,
        compared=len(recorded.keys() | replayed.keys()),
        yet_to_come=yet_to_come,
    )


TURN = 500  # records between two revisions of what news changed, like a poll's worth live


@dataclass(frozen=True)
class Replayed:
    """The alerts a replay raised: `as_read` while the log was read, each episode judged as
    far as its access partition had been; `once_quiet` when all was read, every episode
    judged to its end, as live once a partition has been quiet for a while."""

    as_read: list[Alert]
    once_quiet: list[Alert]

    @property
    def alerts(self) -> list[Alert]:
        return self.as_read + self.once_quiet


def replay_alerts(
    site: SiteConfig, log: RecordedLog, window: TimeRange, progress: bool | None = None
) -> Replayed:
    """Alerts the engine raises for the access events recorded in `window` (of a log that
    passed the record check: `replay` takes care of that).

    Every terminal record read goes in (containers unloaded long before the range matter, and
    news after it may revise alerts raised in it); the engine itself only counts news visible
    by the time it judges. As live, an episode is judged only as far as its zone's access
    partition has been read (`streams/correlator/ownership.py`), and to the end once all is.
    """
    inputs = [*log.topic(TERMINAL), *log.in_range(ACCESS, window)]
    inputs.sort(key=lambda r: (r.timestamp_ms, r.topic != TERMINAL.name, r.partition, r.offset))
    engine = CorrelationEngine.for_site(site)
    read = ReadSoFar()
    engine.judged_up_to = read.judged_up_to
    alerts: list[Alert] = []
    # None lets tqdm decide (shown on a terminal only); small replays never show one.
    small = len(inputs) < PROGRESS_FROM
    disable = (True if small else None) if progress is None else not progress
    with collector_paused():
        for number, record in enumerate(tqdm(inputs, desc="replay", unit="event", disable=disable)):
            alerts += _feed(engine, record, read)
            if number % TURN == TURN - 1:
                # As the live loop does once a poll: what is judged does not depend on how
                # the inputs are cut into turns, only on how far each partition was read.
                alerts += engine.revise()
                engine.settle()
    alerts += engine.revise()  # the last poll's turn, judged as far as each partition was read
    engine.judged_up_to = read.everything
    return Replayed(alerts, engine.revise())


class ReadSoFar:
    """How far each access partition of the log has been read, in event time; a zone's
    partition is the one its access events were on."""

    def __init__(self) -> None:
        self.partition_of: dict[str, int] = {}
        self.up_to: dict[int, float] = {}

    def read(self, event: AccessEvent, partition: int) -> None:
        self.partition_of.setdefault(event.zone_id, partition)
        moment = event.event_time.timestamp()
        self.up_to[partition] = max(self.up_to.get(partition, moment), moment)

    def judged_up_to(self, zone_id: str) -> float:
        partition = self.partition_of.get(zone_id)
        return float("-inf") if partition is None else self.up_to[partition]

    @staticmethod
    def everything(zone_id: str) -> float:
        return float("inf")


def _feed(engine: CorrelationEngine, record: LoggedRecord, read: ReadSoFar) -> list[Alert]:
    try:
        if record.topic == TERMINAL.name:
            engine.on_container_event(TERMINAL.decode(record.value))
            return []
        event = ACCESS.decode(record.value)
        read.read(event, record.partition)
        return engine.on_access(event)
    except ValidationError:
        return []  # the live correlator dead-letters or skips these too


def recorded_alerts(log: RecordedLog, window: TimeRange) -> list[Alert]:
    """Recorded revisions of the alerts for the access events in `window`, whenever published,
    and of any alert published in `window`."""
    in_scope = {alert_id_for(event.incident_id) for _, event in log.messages(ACCESS, window)}
    return [
        alert
        for record, alert in log.messages(ALERTS)
        if alert.alert_id in in_scope or window.holds(record.timestamp_ms)
    ]


def replay(
    site: SiteConfig, log: RecordedLog, window: TimeRange, progress: bool | None = None
) -> ReplayDiff:
    log = log.passing(RecordCheck.for_site(site.signing))
    recorded = histories(recorded_alerts(log, window))
    replayed = replay_alerts(site, log, window, progress)
    return compare(recorded, histories(replayed.alerts), histories(replayed.as_read))
