"""Zone schedules: weekly windows in the site's time zone, including nights past midnight."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from config.zones import ActiveWindow
from detectors.schedule import is_armed

AMS = ZoneInfo("Europe/Amsterdam")


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=AMS)  # 13 March 2026 is a Friday


def test_empty_schedule_is_always_armed():
    assert is_armed([], local(13, 12), "Europe/Amsterdam")


def test_night_window_runs_past_midnight():
    night = [ActiveWindow(start="19:00", end="07:00")]
    assert is_armed(night, local(13, 23), "Europe/Amsterdam")
    assert is_armed(night, local(14, 2), "Europe/Amsterdam")
    assert not is_armed(night, local(14, 7), "Europe/Amsterdam")
    assert not is_armed(night, local(14, 12), "Europe/Amsterdam")


def test_night_window_belongs_to_the_day_it_opens():
    friday_night = [ActiveWindow(days=["fri"], start="22:00", end="06:00")]
    assert is_armed(friday_night, local(13, 23), "Europe/Amsterdam")  # Friday 23:00
    assert is_armed(friday_night, local(14, 3), "Europe/Amsterdam")  # Saturday 03:00
    assert not is_armed(friday_night, local(13, 3), "Europe/Amsterdam")  # Friday 03:00
    assert not is_armed(friday_night, local(14, 23), "Europe/Amsterdam")  # Saturday 23:00


def test_schedule_is_read_in_the_site_time_zone():
    day = [ActiveWindow(start="08:00", end="18:00")]
    utc_morning = datetime(2026, 3, 13, 7, 30, tzinfo=ZoneInfo("UTC"))  # 08:30 in Amsterdam
    assert is_armed(day, utc_morning, "Europe/Amsterdam")
    assert not is_armed(day, utc_morning, "America/New_York")
