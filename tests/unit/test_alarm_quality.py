"""Alarm quality from operators' outcomes: the tally per zone and rule of the board's alerts."""

from __future__ import annotations

from datetime import timedelta

from detectors.events import AccessRule
from quaywatch.console.board import Board
from quaywatch.console.quality import AlarmQuality, ZoneRuleQuality, alarm_quality
from streams.alerts import Alert, Severity
from streams.operator_actions import ActionKind, CloseOutcome
from tests.unit.test_console_board import T0, make_action, make_alert

LATER = T0 + timedelta(minutes=5)


def alert_in(
    alert_id: str,
    zone_id: str,
    rules: list[AccessRule],
    severity: Severity = Severity.medium,
    revision: int = 1,
    minutes: int = 0,
) -> Alert:
    alert = make_alert(alert_id, severity, revision, seen_at=T0 + timedelta(minutes=minutes))
    return alert.model_copy(update={"zone_id": zone_id, "rules": rules})


def closed(board: Board, alert_id: str, outcome: CloseOutcome, revision: int = 1) -> None:
    board.apply_action(make_action(alert_id, ActionKind.close, revision, LATER, outcome=outcome))


def quality_of(board: Board) -> AlarmQuality:
    return alarm_quality(board.entries(), LATER)


def row(zone_id: str, rule: str, **counts: int | float | None) -> dict[str, object]:
    figures = {
        "raised": 0,
        "open": 0,
        "closed": 0,
        "confirmed_incidents": 0,
        "false_alarms": 0,
        "authorised_presences": 0,
        "false_alarm_rate": None,
    }
    return {"zone_id": zone_id, "rule": rule, **figures, **counts}


def test_closes_are_tallied_by_outcome_per_zone_and_rule() -> None:
    board = Board(clock=lambda: LATER)
    intrusion, loitering = [AccessRule.intrusion], [AccessRule.loitering]
    both = [AccessRule.intrusion, AccessRule.loitering]
    for number, (zone, rules) in enumerate(
        [("quay_north", intrusion)] * 5 + [("quay_north", both), ("gate", loitering)] * 2
    ):
        board.apply_alert(alert_in(f"a-{number}", zone, rules, minutes=number))
    closed(board, "a-0", CloseOutcome.false_alarm)
    closed(board, "a-1", CloseOutcome.false_alarm)
    closed(board, "a-2", CloseOutcome.authorised_presence)
    closed(board, "a-3", CloseOutcome.confirmed_incident)
    board.apply_action(make_action("a-4", ActionKind.acknowledge, at=LATER))  # still open
    closed(board, "a-5", CloseOutcome.false_alarm)
    # A legacy close counts as the outcome it stands for; a redelivered close counts once.
    board.apply_action(make_action("a-6", ActionKind.close_false_alarm, at=LATER))
    board.apply_action(make_action("a-6", ActionKind.close_false_alarm, at=LATER))
    closed(board, "a-8", CloseOutcome.authorised_presence)

    quality = quality_of(board)

    assert quality.as_of == LATER and quality.since == T0
    assert [zone.model_dump() for zone in quality.zones] == [
        row(
            "gate",
            "loitering",
            raised=2,
            open=0,
            closed=2,
            false_alarms=1,
            authorised_presences=1,
            false_alarm_rate=0.5,
        ),
        row(
            "quay_north",
            "intrusion",
            raised=5,
            open=1,
            closed=4,
            confirmed_incidents=1,
            false_alarms=2,
            authorised_presences=1,
            false_alarm_rate=0.5,
        ),
        row(
            "quay_north",
            "intrusion+loitering",
            raised=2,
            open=1,
            closed=1,
            false_alarms=1,
            false_alarm_rate=1.0,
        ),
    ]
    assert quality.site.model_dump() == row(
        "all zones",
        "all rules",
        raised=9,
        open=2,
        closed=7,
        confirmed_incidents=1,
        false_alarms=4,
        authorised_presences=2,
        false_alarm_rate=4 / 7,
    )


def test_an_alert_that_got_worse_after_its_close_is_open_again_and_not_counted_closed() -> None:
    board = Board(clock=lambda: LATER)
    board.apply_alert(alert_in("a", "quay_north", [AccessRule.intrusion]))
    closed(board, "a", CloseOutcome.false_alarm)
    assert quality_of(board).site.false_alarms == 1
    # Customs news after the close: the alarm is back, so its earlier verdict no longer holds.
    board.apply_alert(alert_in("a", "quay_north", [AccessRule.intrusion], Severity.critical, 2))

    [zone] = quality_of(board).zones
    assert zone == ZoneRuleQuality(
        zone_id="quay_north",
        rule="intrusion",
        raised=1,
        open=1,
        closed=0,
        confirmed_incidents=0,
        false_alarms=0,
        authorised_presences=0,
        false_alarm_rate=None,
    )


def test_an_alert_is_counted_under_its_latest_revisions_rules() -> None:
    board = Board(clock=lambda: LATER)
    board.apply_alert(alert_in("a", "quay_north", [AccessRule.intrusion]))
    board.apply_alert(
        alert_in("a", "quay_north", [AccessRule.intrusion, AccessRule.loitering], revision=2)
    )
    closed(board, "a", CloseOutcome.confirmed_incident, revision=2)

    assert [(z.rule, z.raised, z.confirmed_incidents) for z in quality_of(board).zones] == [
        ("intrusion+loitering", 1, 1)
    ]


def test_expected_presence_closed_as_authorised_is_no_false_alarm() -> None:
    board = Board(clock=lambda: LATER)
    board.apply_alert(alert_in("a", "quay_north", [AccessRule.intrusion], Severity.suppressed))
    board.apply_alert(alert_in("b", "quay_north", [AccessRule.intrusion], Severity.high))
    closed(board, "a", CloseOutcome.authorised_presence)
    closed(board, "b", CloseOutcome.confirmed_incident)

    [zone] = quality_of(board).zones
    assert (zone.closed, zone.authorised_presences, zone.false_alarm_rate) == (2, 1, 0.0)


def test_an_empty_board_has_no_rate_rather_than_a_division_by_zero() -> None:
    quality = quality_of(Board(clock=lambda: LATER))

    assert quality.model_dump() == {
        "as_of": LATER.isoformat(),
        "since": None,
        "zones": [],
        "site": row("all zones", "all rules"),
    }
