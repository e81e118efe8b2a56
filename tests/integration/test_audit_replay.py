"""Replaying a recorded night gives the recorded alerts; another config gives a precise diff."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.alerts import Severity
from streams.audit.replay import histories, recorded_alerts, replay
from streams.correlator.engine import alert_id_for
from tests.integration.audit_run import (
    FRESH_INCIDENTS,
    INCIDENTS,
    LONGER_WINDOW,
    RecordedRun,
    site_with,
)

pytestmark = pytest.mark.integration


def test_the_recorded_night_has_the_alerts_the_story_implies(recorded: RecordedRun) -> None:
    alerts = histories(recorded_alerts(recorded.log, recorded.window))
    assert set(alerts) == {alert_id_for(incident) for incident in INCIDENTS}
    assert alerts[alert_id_for("late")].revisions == ((1, Severity.medium), (2, Severity.critical))
    assert alerts[alert_id_for("fresh-1")].last == (1, Severity.medium)


def test_replay_with_the_recorded_config_gives_the_identical_alerts(recorded: RecordedRun) -> None:
    diff = replay(recorded.site, recorded.log, recorded.window)

    assert diff.matches, diff.render()
    assert diff.compared == len(INCIDENTS)


def test_longer_fresh_unload_window_changes_exactly_the_alerts_next_to_that_container(
    recorded: RecordedRun, tmp_path: Path
) -> None:
    other = site_with(recorded.kafka, tmp_path, LONGER_WINDOW)

    diff = replay(other, recorded.log, recorded.window)

    assert not diff.matches
    assert (diff.added, diff.dropped) == ([], [])
    changed = {was.alert_id: (was.last, now.last) for was, now in diff.changed}
    assert changed == {
        alert_id_for(incident): ((1, Severity.medium), (1, Severity.high))
        for incident in FRESH_INCIDENTS
    }
    assert "severity changed" in diff.render()


def test_a_range_before_the_night_replays_nothing(recorded: RecordedRun) -> None:
    from datetime import timedelta

    from streams.audit.records import TimeRange

    before = TimeRange(
        recorded.window.start - timedelta(hours=2), recorded.window.start - timedelta(hours=1)
    )
    diff = replay(recorded.site, recorded.log, before)
    assert diff.matches and diff.compared == 0
