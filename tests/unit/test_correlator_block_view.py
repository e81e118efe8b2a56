"""The yard-block views answer exactly what folding every container afresh answers.

The views keep per-block snapshots and move them between moments by re-folding only the
containers with news or an ending fresh-unload window in between; these tests pin that
shortcut to the plain fold over random histories, arrival orders and query moments.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from config.correlation import Correlation
from streams.correlator.blocks import YardBlockView
from streams.correlator.classify import classify, judge
from streams.correlator.table import ContainerTable
from streams.terminal.events import ContainerActivity
from tests.fixtures.port_story import STORY_START, container_event, container_number

BLOCKS = ("B0", "B1", "B2")
ZONES = (("B0",), ("B1",), ("B0", "B1"), ("B2", "B0"), ())
CORRELATION = Correlation(fresh_unload_minutes=30, grace_seconds=120, inspection_bay_blocks=["B2"])

facts = st.tuples(
    st.integers(0, 7),  # container
    st.sampled_from(list(ContainerActivity)),
    st.integers(0, 7200),  # event time, seconds into the story
    st.sampled_from([0, 0, 0, 30, 600, 3000]),  # recorded this much later
    st.sampled_from([*BLOCKS, None]),
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("fact"), facts),
        # Query moments hit fact times and window ends exactly as often as in between.
        st.tuples(st.just("ask"), st.integers(0, 11000), st.sampled_from(range(len(ZONES)))),
    ),
    max_size=60,
)


def plain_verdict(table: ContainerTable, zone: tuple[str, ...], moment: float):
    containers = table.containers_in(zone, moment)
    return classify("zone", zone, containers, moment, CORRELATION)


@settings(max_examples=300, deadline=None)
@given(steps)
def test_block_views_agree_with_a_fresh_fold_whatever_the_order_of_news_and_questions(
    story: list[tuple],
) -> None:
    table = ContainerTable()
    view = YardBlockView(table, CORRELATION)
    for step in story:
        if step[0] == "fact":
            serial, activity, at, late, block = step[1]
            event_time = STORY_START + timedelta(seconds=at)
            table.add(
                container_event(
                    container_number(serial),
                    activity,
                    event_time,
                    block,
                    recorded_at=event_time + timedelta(seconds=late),
                )
            )
            continue
        _, at, zone_index = step
        zone = ZONES[zone_index]
        moment = STORY_START.timestamp() + at
        fast = judge("zone", zone, view.picture(zone, moment), CORRELATION)
        assert fast == plain_verdict(table, zone, moment)


def test_a_fresh_unload_window_ending_exactly_at_the_question_is_still_fresh() -> None:
    table = ContainerTable()
    view = YardBlockView(table, CORRELATION)
    discharged = STORY_START
    table.add(container_event(container_number(1), ContainerActivity.discharged, discharged, "B0"))
    window_end = discharged.timestamp() + CORRELATION.fresh_unload_minutes * 60
    for moment in (window_end + 1, window_end, window_end - 1, window_end + 0.5, window_end):
        fast = judge("zone", ("B0",), view.picture(("B0",), moment), CORRELATION)
        assert fast == plain_verdict(table, ("B0",), moment)


def test_many_containers_listed_in_rank_then_number_order() -> None:
    table = ContainerTable()
    view = YardBlockView(table, CORRELATION)
    for serial in range(60):
        at = STORY_START - timedelta(minutes=serial)
        table.add(container_event(container_number(serial), ContainerActivity.discharged, at, "B0"))
        if serial % 7 == 0:
            table.add(
                container_event(
                    container_number(serial), ContainerActivity.selected_for_inspection, at
                )
            )
    for minutes_after in (0, 5, 20, 45, 90, 10):
        moment = STORY_START.timestamp() + 60 * minutes_after
        fast = judge("zone", ("B0", "B1"), view.picture(("B0", "B1"), moment), CORRELATION)
        assert fast == plain_verdict(table, ("B0", "B1"), moment)
        assert fast.containers_in_zone == 60
