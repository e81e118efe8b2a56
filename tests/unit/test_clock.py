"""The one clock people read (config.clock): site time with date and offset, footage time
labelled, the moments people type for a range, and alert reasons worded in site time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from config.clock import footage_time, parse_moment, site_time, zone_of
from config.correlation import Correlation
from streams.correlator.classify import classify
from streams.correlator.table import ContainerState

AMSTERDAM = zone_of("Europe/Amsterdam")
# 2026-12-01 23:41:07 in Amsterdam (winter, +01:00).
NOW = datetime(2026, 12, 1, 22, 41, 7, tzinfo=UTC)


def test_site_time_has_the_date_and_the_offset_of_the_site_in_winter_and_summer() -> None:
    assert site_time(NOW, AMSTERDAM) == "2026-12-01 23:41:07 +01:00"
    assert site_time(NOW.timestamp(), AMSTERDAM) == "2026-12-01 23:41:07 +01:00"
    summer = datetime(2026, 7, 1, 22, 0, tzinfo=UTC)
    assert site_time(summer, AMSTERDAM) == "2026-07-02 00:00:00 +02:00"
    assert site_time(NOW, zone_of("America/St_Johns")) == "2026-12-01 19:11:07 -03:30"
    assert footage_time(NOW, AMSTERDAM) == "2026-12-01 23:41:07 +01:00 (footage time)"
    with pytest.raises(ValueError, match="no time zone"):
        site_time(datetime(2026, 12, 1, 22, 0), AMSTERDAM)


@pytest.mark.parametrize(
    ("typed", "end", "meant"),
    [
        ("2026-12-01", False, datetime(2026, 11, 30, 23, 0, tzinfo=UTC)),
        ("2026-12-01", True, datetime(2026, 12, 1, 23, 0, tzinfo=UTC) - timedelta(microseconds=1)),
        ("2026-12-01 23:00", False, datetime(2026, 12, 1, 22, 0, tzinfo=UTC)),
        ("2026-12-01T23:00:30", False, datetime(2026, 12, 1, 22, 0, 30, tzinfo=UTC)),
        ("2026-12-01T22:00:00Z", False, datetime(2026, 12, 1, 22, 0, tzinfo=UTC)),
        ("2026-12-01T23:00:00+01:00", False, datetime(2026, 12, 1, 22, 0, tzinfo=UTC)),
        ("23:00", False, datetime(2026, 12, 1, 22, 0, tzinfo=UTC)),
        ("now", True, NOW),
        ("today", False, datetime(2026, 11, 30, 23, 0, tzinfo=UTC)),
        ("Yesterday", False, datetime(2026, 11, 29, 23, 0, tzinfo=UTC)),
        ("yesterday", True, datetime(2026, 11, 30, 23, 0, tzinfo=UTC) - timedelta(microseconds=1)),
        ("-1h", False, NOW - timedelta(hours=1)),
        ("-30m", False, NOW - timedelta(minutes=30)),
        ("-2d", False, NOW - timedelta(days=2)),
        ("-90s", False, NOW - timedelta(seconds=90)),
        ("-1w", False, NOW - timedelta(days=7)),
    ],
)
def test_moments_are_read_as_people_type_them_in_the_site_zone(
    typed: str, end: bool, meant: datetime
) -> None:
    assert parse_moment(typed, AMSTERDAM, NOW, end=end) == meant


@pytest.mark.parametrize("typed", ["", "last week", "2026-13-01", "-1y", "1h", "25:00"])
def test_anything_else_is_refused_naming_the_forms_understood(typed: str) -> None:
    with pytest.raises(ValueError, match=r"is not a time; use one of: 2026-12-01, .*yesterday"):
        parse_moment(typed, AMSTERDAM, NOW)


def test_a_reason_quotes_the_customs_selection_in_site_time() -> None:
    selected = datetime(2026, 3, 14, 0, 35, tzinfo=UTC).timestamp()
    container = ContainerState(
        "CSQU3054383", in_terminal=True, yard_block="Q3", selected_for_inspection_at=selected
    )
    verdict = classify("quay-q3", ["Q3"], [container], selected + 600, Correlation(), AMSTERDAM)
    assert verdict.reason == (
        "person in zone quay-q3 next to CSQU3054383, selected by customs at "
        "2026-03-14 01:35:00 +01:00 and not yet inspected"
    )


def test_a_replay_clock_starts_at_its_moment_and_runs_at_the_wall_clocks_pace():
    import time as wall
    from datetime import UTC, datetime, timedelta

    from config.clock import running_clock

    start = datetime(2026, 3, 14, 1, 0, tzinfo=UTC)
    clock = running_clock(start)
    first = clock()
    wall.sleep(0.2)
    second = clock()
    assert timedelta(0) <= first - start < timedelta(seconds=0.1)
    assert timedelta(seconds=0.2) <= second - first < timedelta(seconds=1)
    assert abs(running_clock(None)() - datetime.now(UTC)) < timedelta(seconds=1)
