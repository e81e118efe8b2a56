"""What the correlator forgets after weeks: containers long gone from the terminal and the ids
of alerts long settled. What it says about the present stays the same."""

from __future__ import annotations

from datetime import timedelta

from config.correlation import Correlation
from streams.alerts import Alert
from streams.correlator.engine import CorrelationEngine, alert_id_for
from streams.correlator.table import ContainerTable
from streams.terminal.events import ContainerActivity, ContainerEvent
from tests.fixtures.port_story import (
    STORY_START,
    access_event,
    container_event,
    container_number,
)

DAY = timedelta(days=1)
LEFT, CAME_BACK, STAYS = (container_number(n, owner="QWM") for n in range(3))


def weeks_in_block_b1() -> list[ContainerEvent]:
    """Three weeks ago three containers were discharged in B1: one left and is gone, one left
    and came back for another visit, one never left. A few hundred others came and went."""
    start = STORY_START - 21 * DAY
    events = [
        container_event(LEFT, ContainerActivity.discharged, start, "B1"),
        container_event(LEFT, ContainerActivity.gated_out, start + 2 * DAY),
        container_event(CAME_BACK, ContainerActivity.discharged, start, "B1"),
        container_event(CAME_BACK, ContainerActivity.gated_out, start + 2 * DAY),
        container_event(CAME_BACK, ContainerActivity.gated_in, STORY_START - DAY, "B1"),
        container_event(STAYS, ContainerActivity.discharged, start, "B1"),
    ]
    for serial in range(300):
        number = container_number(1000 + serial, owner="QWM")
        arrived = start + timedelta(hours=serial)
        events.append(container_event(number, ContainerActivity.discharged, arrived, "B1"))
        events.append(container_event(number, ContainerActivity.gated_out, arrived + 2 * DAY))
    return sorted(events, key=lambda event: event.event_time)


def engine(days: float) -> CorrelationEngine:
    correlation = Correlation(forget_departed_days=days)
    return CorrelationEngine(correlation, "c" * 64, {"zone-B1": ["B1"]})


def tonight(e: CorrelationEngine) -> list[Alert]:
    for event in weeks_in_block_b1():
        e.on_container_event(event)
    e.settle()
    person = access_event("zone-B1", STORY_START, "tonight", ["B1"])
    return e.on_access(person) + e.revise()


def test_containers_gone_for_longer_than_the_setting_leave_the_table() -> None:
    e = engine(days=7)
    tonight(e)
    table = e.table
    # Gone 19 days ago: LEFT and those that left more than 7 days before the latest news.
    assert LEFT not in table.members("B1")
    assert table.state_as_of(LEFT, STORY_START.timestamp()).discharged_at is None
    assert {CAME_BACK, STAYS} <= table.members("B1")
    # The latest news is a day before tonight, so the horizon is 8 days before it: of the
    # 300 that left 2 days after arriving an hour apart from 21 days before, the last 36.
    assert len(table) == 2 + 36
    everything = engine(days=1000)
    tonight(everything)
    assert len(everything.table) == 3 + 300


def test_what_an_alert_says_tonight_does_not_change_when_the_departed_are_forgotten() -> None:
    forgetting, remembering = tonight(engine(days=7)), tonight(engine(days=1000))
    assert forgetting
    assert [a.to_bytes() for a in forgetting] == [a.to_bytes() for a in remembering]


def test_a_container_with_news_after_the_horizon_stays() -> None:
    table = ContainerTable()
    start = STORY_START - 30 * DAY
    table.add(container_event(LEFT, ContainerActivity.discharged, start, "B1"))
    table.add(container_event(LEFT, ContainerActivity.gated_out, start + DAY))
    # The customs release, reported three weeks late.
    late = container_event(
        LEFT, ContainerActivity.released, start + DAY / 2, recorded_at=STORY_START
    )
    table.add(late)
    assert table.forget_departed(before=(STORY_START - DAY).timestamp()) == 0
    assert LEFT in table.members("B1")
    assert table.forget_departed(before=(STORY_START + DAY).timestamp()) == 1
    assert len(table) == 0
    # Forgotten whole: the same events read again are new to it.
    assert table.add(late) is not None


def test_ids_of_alerts_settled_long_ago_are_forgotten() -> None:
    e = engine(days=7)
    for at, incident in (
        (STORY_START - 14 * DAY, "weeks-ago"),
        (STORY_START - 2 * DAY, "days-ago"),
    ):
        assert e.on_access(access_event("zone-B1", at, incident, ["B1"]))
    for event in weeks_in_block_b1():  # news up to a day before tonight settles both
        e.on_container_event(event)
    e.revise()
    e.settle()
    assert not e.open_episodes
    assert set(e.settled) == {alert_id_for("days-ago")}
