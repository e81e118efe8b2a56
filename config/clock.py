"""The one clock people read: a moment in the site's time zone, with its date and UTC offset.

Every time shown to a person (report, CSV, alert reasons, command output) goes through
`site_time`, so an operator in Rotterdam never has to convert from UTC:

    >>> from datetime import UTC, datetime
    >>> site_time(datetime(2026, 12, 1, 22, 41, 7, tzinfo=UTC), zone_of("Europe/Amsterdam"))
    '2026-12-01 23:41:07 +01:00'

Footage replayed with a camera's `start_time` carries that made-up clock, not the wall clock:
such times are shown with FOOTAGE_LABEL beside them. The moments people type for a range
(`--from yesterday`, `-2h`, `2026-12-01 23:00`) are read here too, in the same zone.
"""

from __future__ import annotations

import re
import time as monotonic_time
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

FOOTAGE_LABEL = "footage time"

# What `parse_moment` understands, for the message that refuses anything else.
MOMENT_FORMS = (
    "2026-12-01, 2026-12-01 23:00, 2026-12-01T23:00:00+01:00, 23:00 (site time unless an "
    "offset or Z is given), now, today, yesterday, -30m, -1h, -2d, -1w"
)
_RELATIVE = re.compile(r"^-(\d+)\s*([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_TIME_OF_DAY = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$")


@lru_cache(maxsize=16)
def zone_of(name: str) -> tzinfo:
    """The IANA zone `name` (the site config has checked it exists)."""
    return ZoneInfo(name)


def site_time(moment: datetime | float, zone: tzinfo) -> str:
    """`moment` (an aware datetime, or seconds since the epoch) as the site's people read it:
    date, time to the second and UTC offset, e.g. '2026-12-01 23:41:07 +01:00'."""
    if isinstance(moment, int | float):
        moment = datetime.fromtimestamp(moment, UTC)
    elif moment.tzinfo is None:
        raise ValueError(f"{moment.isoformat()} has no time zone; event times are all aware")
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M:%S} {_offset(local)}"


def footage_time(moment: datetime | float, zone: tzinfo) -> str:
    """`site_time`, labelled as the footage's clock (a recorded camera's start_time)."""
    return f"{site_time(moment, zone)} ({FOOTAGE_LABEL})"


def clock_time(moment: datetime | float, zone: tzinfo) -> str:
    """Time of day only, with the offset, where the date is already shown nearby."""
    if isinstance(moment, int | float):
        moment = datetime.fromtimestamp(moment, UTC)
    local = moment.astimezone(zone)
    return f"{local:%H:%M:%S} {_offset(local)}"


def _offset(local: datetime) -> str:
    offset = local.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def parse_moment(text: str, zone: tzinfo, now: datetime, end: bool = False) -> datetime:
    """A moment typed by a person, as an aware datetime.

    Times without an offset are the site's (`zone`). A whole day (a date, "today",
    "yesterday") means its first moment, or its last when `end` is set, so
    `--from yesterday --to yesterday` is all of yesterday. Relative forms count back from
    `now`. Raises ValueError naming the forms understood.
    """
    typed = text.strip()
    word = typed.lower()
    today = now.astimezone(zone).date()
    if word == "now":
        return now
    if word in ("today", "yesterday"):
        return _day_edge(today - timedelta(days=word == "yesterday"), zone, end)
    relative = _RELATIVE.match(word)
    if relative:
        return now - timedelta(seconds=int(relative[1]) * _UNIT_SECONDS[relative[2]])
    try:
        if _TIME_OF_DAY.match(typed):
            return _local(datetime.combine(today, time.fromisoformat(typed.zfill(5))), zone)
        if len(typed) == 10:
            return _day_edge(date.fromisoformat(typed), zone, end)
        moment = datetime.fromisoformat(typed.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not a time; use one of: {MOMENT_FORMS}") from None
    return _local(moment, zone) if moment.tzinfo is None else moment


def _day_edge(day: date, zone: tzinfo, end: bool) -> datetime:
    if end:
        return _local(datetime.combine(day + timedelta(days=1), time()), zone) - timedelta(
            microseconds=1
        )
    return _local(datetime.combine(day, time()), zone)


def _local(naive: datetime, zone: tzinfo) -> datetime:
    # fold=0: an hour that happens twice when the clocks go back is read as its first pass.
    return naive.replace(tzinfo=zone)


def running_clock(start: datetime | None) -> Callable[[], datetime]:
    """The wall clock, or (for a site replaying footage) a clock that starts at `start` now
    and runs at the wall clock's pace, as a camera's start_time makes its frames' clock."""
    if start is None:
        return lambda: datetime.now(UTC)
    origin = monotonic_time.monotonic()
    return lambda: start + timedelta(seconds=monotonic_time.monotonic() - origin)
