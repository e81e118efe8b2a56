"""An owner judges an episode only as far as its access partition has been read: the alerts
then do not depend on how the inputs were cut into polls, and a non-owner publishes none."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from kafka import TopicPartition

from config.correlation import Correlation
from config.kafka import Kafka
from streams.access import AccessEvent
from streams.alerts import Alert
from streams.correlator.engine import CorrelationEngine
from streams.correlator.ownership import QUIET_POLLS, Ownership
from streams.terminal.events import ContainerEvent
from tests.fixtures.port_story import port_night, story_site

SITE = story_site(Kafka(), 4, Correlation(grace_seconds=120))
BATCH_SECONDS = 120  # the terminal sends what it recorded every two minutes


def in_batches(event: ContainerEvent | AccessEvent) -> ContainerEvent | AccessEvent:
    if isinstance(event, AccessEvent):
        return event
    recorded = event.recorded_at.timestamp()
    sent = recorded - recorded % BATCH_SECONDS + BATCH_SECONDS
    return event.model_copy(update={"ingested_at": datetime.fromtimestamp(sent, UTC)})


def arrival(event: ContainerEvent | AccessEvent) -> datetime:
    return event.known_from if isinstance(event, ContainerEvent) else event.event_time


NIGHT = sorted(
    map(in_batches, port_night(seed=4, containers=240, incidents=400, blocks=4)), key=arrival
)


def correlated(seed: int) -> dict[tuple[str, int], bytes]:
    """The alerts of the night read in steps cut at random: each step learns the terminal news
    sent so far (and some sent later), then a few access events, judged up to the latest read."""
    rng = random.Random(seed)
    engine = CorrelationEngine.for_site(SITE)
    read_up_to = float("-inf")
    engine.judged_up_to = lambda zone_id: read_up_to
    news = [(n, e) for n, e in enumerate(NIGHT) if isinstance(e, ContainerEvent)]
    people = [(n, e) for n, e in enumerate(NIGHT) if isinstance(e, AccessEvent)]
    alerts: list[Alert] = []
    while people:
        batch, people = people[: rng.randint(1, 40)], people
        people = people[len(batch) :]
        sent_by = batch[-1][0] + rng.choice(
            [0, 0, 3, 30, 300]
        )  # the feed is ahead of the cameras, by some
        while news and news[0][0] <= sent_by:
            engine.on_container_event(news.pop(0)[1])
        for _, event in batch:
            read_up_to = max(read_up_to, event.event_time.timestamp())
            alerts += engine.on_access(event)
        alerts += engine.revise()
    for _, event in news:
        engine.on_container_event(event)
    read_up_to = float("inf")
    alerts += engine.revise()
    log = {(alert.alert_id, alert.revision): alert.to_bytes() for alert in alerts}
    assert len(log) == len(alerts)  # no revision twice
    return log


def test_alerts_do_not_depend_on_how_the_inputs_were_cut_into_polls() -> None:
    first = correlated(seed=1)
    assert len({alert_id for alert_id, _ in first}) > 50
    assert any(revision > 1 for _, revision in first)
    for seed in (2, 3):
        assert correlated(seed) == first


def test_an_instance_that_does_not_own_the_partition_publishes_nothing_and_learns() -> None:
    owner, other = CorrelationEngine.for_site(SITE), CorrelationEngine.for_site(SITE)
    other.judged_up_to = lambda zone_id: None
    published: list[Alert] = []
    for event in NIGHT[:400]:
        if isinstance(event, ContainerEvent):
            owner.on_container_event(event)
            other.on_container_event(event)
            continue
        published += owner.on_access(event) + owner.revise()
        assert other.on_access(event) + other.revise() == []
    assert published
    for alert in published:
        other.on_published(alert)
    assert set(other.open_episodes) | set(other.settled) == {a.alert_id for a in published}


def partitions(*numbers: int) -> list[TopicPartition]:
    return [TopicPartition("access", number) for number in numbers]


def test_partitions_that_come_back_after_another_instance_had_them_are_rebuilt() -> None:
    ownership = Ownership(quiet_seconds=1.0)
    ownership.on_partitions_assigned(partitions(0, 1, 2, 3))
    # Until now every episode was another instance's, as far as this one knew.
    assert ownership.take_gained() == {0, 1, 2, 3}
    ownership.on_partitions_revoked(partitions(0, 1, 2, 3))
    ownership.on_partitions_assigned(partitions(0, 1))  # a second instance joined
    assert ownership.take_gained() == set()
    ownership.on_partitions_revoked(partitions(0, 1))
    ownership.on_partitions_assigned(partitions(0, 1, 2, 3))  # it died
    assert ownership.take_gained() == {2, 3}
    assert ownership.take_gained() == set()


def test_a_partition_is_judged_as_far_as_it_was_read_and_others_not_at_all() -> None:
    ownership = Ownership(quiet_seconds=1.0)
    ownership.partition_count = 4
    mine = next(z for z in (f"zone-{n}" for n in range(20)) if ownership.partition_of(z) == 1)
    theirs = next(z for z in (f"zone-{n}" for n in range(20)) if ownership.partition_of(z) == 2)
    ownership.on_partitions_assigned(partitions(0, 1))
    assert ownership.judged_up_to(mine) == float("-inf")
    ownership.read(1, 1000.0)
    assert ownership.judged_up_to(mine) == 1000.0
    assert ownership.judged_up_to(theirs) is None


def test_a_quiet_partition_is_judged_up_to_the_news_known_several_polls_before() -> None:
    now = [0.0]
    ownership = Ownership(quiet_seconds=1.0, clock=lambda: now[0])
    ownership.partition_count = 2
    zone = next(z for z in (f"zone-{n}" for n in range(20)) if ownership.partition_of(z) == 0)
    ownership.on_partitions_assigned(partitions(0, 1))
    ownership.read(0, 1000.0)
    # News read now: an access event sent before it may not have been fetched yet.
    ownership.quiet([0], latest_news=5000.0)
    for _poll in range(QUIET_POLLS + 1):
        now[0] += 0.2
        ownership.quiet([0], latest_news=7000.0)
        assert ownership.judged_up_to(zone) == 1000.0
    now[0] = 1.0  # polls enough, and long enough, after that news
    ownership.quiet([0], latest_news=7000.0)
    assert ownership.judged_up_to(zone) == 5000.0
    ownership.quiet([1], latest_news=7000.0)  # a record came: not at the end, not quiet
    now[0] = 10.0
    ownership.quiet([0], latest_news=8000.0)
    assert ownership.judged_up_to(zone) == 5000.0


def test_partitions_kept_through_a_fall_out_of_the_group_are_rebuilt() -> None:
    """Out of the group (heartbeats stopped for a session timeout), the others had the
    partitions and may have published revisions: the same partitions given back are rebuilt."""
    ownership = Ownership(quiet_seconds=1.0)
    ownership.on_partitions_assigned(partitions(0, 1))
    ownership.take_gained()
    ownership.on_partitions_lost(partitions(0, 1))
    assert ownership.owned == set()
    ownership.on_partitions_assigned(partitions(0, 1))
    assert ownership.take_gained() == {0, 1}


def test_an_instance_in_doubt_of_its_membership_owns_nothing_and_rebuilds_all_it_gets() -> None:
    ownership = Ownership(quiet_seconds=1.0)
    ownership.partition_count = 4
    ownership.on_partitions_assigned(partitions(0, 1, 2, 3))
    ownership.take_gained()
    ownership.distrust()
    assert ownership.judged_up_to("zone-1") is None
    ownership.on_partitions_revoked(partitions(0, 1, 2, 3))  # leaving, as its consumer closes
    ownership.on_partitions_assigned(partitions(1, 2))
    assert ownership.take_gained() == {1, 2}


def test_partitions_kept_past_a_generation_this_instance_missed_are_rebuilt() -> None:
    """The group went on without this instance for a generation (it did not rejoin in time)
    and the client told a revoke: whoever had the partitions then may have published."""
    ownership = Ownership(quiet_seconds=1.0)
    ownership.assigned_in(4)
    ownership.on_partitions_assigned(partitions(0, 1))
    ownership.take_gained()
    ownership.on_partitions_revoked(partitions(0, 1))
    ownership.assigned_in(5)  # the next generation: the partitions kept are its own
    ownership.on_partitions_assigned(partitions(0, 1))
    assert ownership.take_gained() == set()
    ownership.on_partitions_revoked(partitions(0, 1))
    ownership.assigned_in(7)
    ownership.on_partitions_assigned(partitions(0, 1))
    assert ownership.take_gained() == {0, 1}


def test_between_a_revoke_and_the_next_assignment_the_instance_is_rebalancing() -> None:
    """The client's polls return while the group agrees on a new assignment: the loop must
    not judge the partitions it had as another instance's meanwhile, nor the ones it lost."""
    ownership = Ownership(quiet_seconds=1.0)
    assert not ownership.rebalancing
    ownership.on_partitions_assigned(partitions(0, 1))
    assert not ownership.rebalancing
    ownership.on_partitions_revoked(partitions(0, 1))
    assert ownership.rebalancing
    ownership.on_partitions_assigned(partitions(0, 1))
    assert not ownership.rebalancing
    ownership.on_partitions_lost(partitions(0, 1))
    assert ownership.rebalancing
    ownership.on_partitions_assigned(partitions(1))
    assert not ownership.rebalancing
