"""`audit replay` output: times in the site's zone, labelled footage time where the alert's
camera replays footage (a camera with a start_time), the wall clock's left unlabelled."""

from __future__ import annotations

from datetime import UTC, datetime

from config.clock import zone_of
from streams.alerts import Severity
from streams.audit.replay import AlertHistory, ReplayDiff

AMSTERDAM = zone_of("Europe/Amsterdam")
SEEN = datetime(2024, 3, 5, 0, 35, tzinfo=UTC)


def history(alert_id: str, camera: str, *severities: Severity) -> AlertHistory:
    steps = tuple((n, severity) for n, severity in enumerate(severities, start=1))
    return AlertHistory(alert_id, "zone-B3", SEEN, steps, camera)


def test_footage_cameras_times_are_labelled_and_the_wall_clocks_are_not() -> None:
    diff = ReplayDiff(
        added=[history("new", "cam-footage", Severity.high)],
        dropped=[history("gone", "cam-live", Severity.medium)],
        changed=[
            (
                history("fresh", "cam-footage", Severity.medium),
                history("fresh", "cam-footage", Severity.high),
            )
        ],
        compared=3,
    )

    assert diff.render(AMSTERDAM, frozenset({"cam-footage"})) == "\n".join(
        (
            "replay differs from the recorded alerts (3 compared): 1 added, 1 dropped, 1 changed",
            "  added:   new zone zone-B3 seen 2024-03-05 01:35:00 +01:00 (footage time): high (r1)",
            "  dropped: gone zone zone-B3 seen 2024-03-05 01:35:00 +01:00: medium (r1)",
            "  severity changed: fresh zone zone-B3 seen 2024-03-05 01:35:00 +01:00 (footage time)",
            "      recorded: medium (r1)",
            "      replayed: high (r1)",
        )
    )
    # No camera replays footage: no time is labelled so.
    assert "footage time" not in diff.render(AMSTERDAM)


def test_revisions_yet_to_come_are_named_after_a_match() -> None:
    was = history("quiet", "cam-live", Severity.high)
    now = history("quiet", "cam-live", Severity.high, Severity.critical)
    diff = ReplayDiff(compared=2, yet_to_come=[(was, now)])

    assert diff.matches
    assert diff.render(AMSTERDAM) == "\n".join(
        (
            "replay matches the recorded alerts: 2 alerts identical, 1 as far as the log goes "
            "(their next revisions were due once the zone's access partition had been quiet for "
            "correlation.quiet_partition_seconds, after the log ends)",
            "  yet to come: quiet zone zone-B3 seen 2024-03-05 01:35:00 +01:00: critical (r2)",
        )
    )
