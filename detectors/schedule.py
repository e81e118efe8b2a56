"""Whether a zone is armed at a moment, from its weekly windows in the site's time zone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from config.zones import ActiveWindow, Weekday

WEEKDAYS = list(Weekday)  # Monday first, as datetime.weekday() counts


def is_armed(schedule: Sequence[ActiveWindow], moment: datetime, timezone: str) -> bool:
    """True when `moment` falls in one of the windows; an empty schedule is always armed.

    A window whose end is before its start runs past midnight and belongs to the day it
    opens on: a Friday 22:00-06:00 window covers Saturday 03:00, not Friday 03:00.
    """
    if not schedule:
        return True
    local = moment.astimezone(ZoneInfo(timezone))
    clock = local.time().replace(tzinfo=None)
    today = WEEKDAYS[local.weekday()]
    yesterday = WEEKDAYS[(local - timedelta(days=1)).weekday()]
    for window in schedule:
        if window.start < window.end:
            if today in window.days and window.start <= clock < window.end:
                return True
        else:
            if today in window.days and clock >= window.start:
                return True
            if yesterday in window.days and clock < window.end:
                return True
    return False
