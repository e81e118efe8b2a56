"""An audit replay judges each episode only as far as its zone's access partition has been
read, as the live correlator does: terminal news published between two access events but
visible before the first is judged with, not a revision later."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime

from config.correlation import Correlation
from config.kafka import Kafka
from streams.access import AccessEvent
from streams.alerts import Alert, Severity
from streams.audit.records import LoggedRecord, RecordedLog, TimeRange
from streams.audit.replay import compare, histories, replay_alerts
from streams.chain import partition_for
from streams.correlator.engine import CorrelationEngine
from streams.terminal.events import ContainerEvent
from streams.topics import ACCESS, TERMINAL
from tests.fixtures.port_story import story_site
from tests.unit.test_correlator_ownership import NIGHT, arrival

SITE = story_site(Kafka(), 4, Correlation(grace_seconds=120))
PARTITIONS = 3


def logged(events: list[ContainerEvent | AccessEvent]) -> RecordedLog:
    """The night as the broker would hold it: each record stamped when it arrived, on the
    partition its key picks."""
    offsets: dict[tuple[str, int], int] = defaultdict(int)
    records = []
    for event in events:
        topic = TERMINAL if isinstance(event, ContainerEvent) else ACCESS
        key = topic.key_of(event).encode()
        partition = partition_for(key, PARTITIONS)
        offset = offsets[(topic.name, partition)]
        offsets[(topic.name, partition)] += 1
        records.append(
            LoggedRecord(
                topic=topic.name,
                partition=partition,
                offset=offset,
                timestamp_ms=round(arrival(event).timestamp() * 1000),
                key=key,
                value=event.to_bytes(),
                headers=tuple(event.headers()),
                kafka_topic=topic.name,
            )
        )
    return RecordedLog.of(records)


def live(
    events: list[ContainerEvent | AccessEvent], limited: bool = True, quiet_at_end: bool = True
) -> list[bytes]:
    """The live correlator's alerts, in the order of their bytes."""
    return sorted(alert.to_bytes() for alert in live_alerts(events, limited, quiet_at_end))


def live_alerts(
    events: list[ContainerEvent | AccessEvent], limited: bool = True, quiet_at_end: bool = True
) -> list[Alert]:
    """The live correlator, owning every partition: news learnt as it comes, each access
    event's partition judged as far as it has been read (unless not `limited`: every episode
    judged to its end at once), everything once all is read and quiet (unless it stopped
    before: not `quiet_at_end`)."""
    engine = CorrelationEngine.for_site(SITE)
    read: dict[int, float] = {}
    if limited:
        engine.judged_up_to = lambda zone: read.get(partition_for(zone.encode(), PARTITIONS), -1e18)
    alerts = []
    for event in events:
        if isinstance(event, ContainerEvent):
            engine.on_container_event(event)
            alerts += engine.revise()
            engine.settle()
            continue
        partition = partition_for(event.zone_id.encode(), PARTITIONS)
        read[partition] = max(read.get(partition, -1e18), event.event_time.timestamp())
        alerts += engine.on_access(event) + engine.revise()
    if quiet_at_end:
        engine.judged_up_to = lambda zone: float("inf")
        alerts += engine.revise()
    return alerts


EVERYTHING = TimeRange(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def test_a_replay_publishes_the_revisions_the_live_correlator_publishes() -> None:
    replayed = replay_alerts(SITE, logged(NIGHT), EVERYTHING, progress=False).alerts
    expected = live(NIGHT)
    assert len(expected) > 100
    assert sorted(alert.to_bytes() for alert in replayed) == expected
    # Judged without the limit, the same night says something else: the limit is what
    # makes a replay tell the live correlator's story.
    assert live(NIGHT, limited=False) != expected


def test_wherever_the_log_ends_a_correlator_stopped_there_matches_its_replay() -> None:
    """A correlator stopped (Ctrl-C) as soon as it had read the last record never judged its
    quiet partitions up to the latest news: the replay says which revisions were yet to come,
    and still finds a recorded revision it does not raise."""
    ends_before_revisions = []
    for end in range(100, len(NIGHT), 23):
        night = NIGHT[:end]
        replayed = replay_alerts(SITE, logged(night), EVERYTHING, progress=False)
        stopped = histories(live_alerts(night, quiet_at_end=False))
        as_read = histories(replayed.as_read)
        diff = compare(stopped, histories(replayed.alerts), as_read)
        assert diff.matches, (end, diff.render())
        yet_to_come = {now.alert_id for _, now in diff.yet_to_come}
        assert yet_to_come == {alert.alert_id for alert in replayed.once_quiet}, end
        if yet_to_come:
            ends_before_revisions.append((stopped, replayed, diff))
    assert ends_before_revisions  # some ends come before news on alerts still open

    stopped, replayed, diff = ends_before_revisions[0]
    assert "as far as the log goes" in diff.render()
    assert not compare(stopped, histories(replayed.alerts)).matches  # without as_read
    was, _ = diff.yet_to_come[0]
    revision, severity = was.revisions[-1]
    other = next(s for s in Severity if s != severity)
    tampered = {
        **stopped,
        was.alert_id: replace(was, revisions=(*was.revisions[:-1], (revision, other))),
    }
    diff = compare(tampered, histories(replayed.alerts), histories(replayed.as_read))
    assert [recorded.alert_id for recorded, _ in diff.changed] == [was.alert_id]
