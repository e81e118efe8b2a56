"""The report's words for what operators did: shelve, assign, close with an outcome (legacy
closes read as theirs), in the alert table, the CSV row and the timeline's hover label."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from config.clock import zone_of
from streams.alerts import Severity
from streams.audit.report import AlertRow, _action_mark
from streams.audit.report_page import ReportPage
from streams.audit.timeline import Row, Timeline, render_svg
from streams.operator_actions import ActionKind, CloseOutcome
from tests.unit.test_console_board import T0, make_action, make_alert

AMSTERDAM = zone_of("Europe/Amsterdam")  # T0 is 2026-03-01 02:00 UTC: 03:00 +01:00 there


def _night() -> list:
    return [
        make_action("a", ActionKind.acknowledge, at=T0 + timedelta(minutes=1)),
        make_action(
            "a",
            ActionKind.shelve,
            at=T0 + timedelta(minutes=2),
            shelved_until=T0 + timedelta(minutes=32),
        ),
        make_action("a", ActionKind.assign, at=T0 + timedelta(minutes=3), assignee="piet"),
        make_action("a", ActionKind.escalate, at=T0 + timedelta(minutes=4)),
        make_action(
            "a", ActionKind.close, at=T0 + timedelta(minutes=5), outcome=CloseOutcome.false_alarm
        ),
    ]


def test_every_action_reads_in_its_words_with_the_final_outcome_and_assignee() -> None:
    row = AlertRow(
        make_alert("a", Severity.critical), [make_alert("a", Severity.critical)], _night()
    )

    assert row.as_dict(AMSTERDAM) == {
        "alert_id": "a",
        "zone_id": "quay_north",
        "seen_at": "2026-03-01 03:00:00 +01:00",
        "seen_clock": "wall clock",
        "severity": "critical",
        "last_revision": 1,
        "revisions": "critical (r1)",
        "handled_by": "; ".join(
            (
                "2026-03-01 03:01:00 +01:00 olga (operator) on r1: acknowledged: checked on camera",
                "2026-03-01 03:02:00 +01:00 olga (operator) on r1: shelved until "
                "2026-03-01 03:32:00 +01:00: checked on camera",
                "2026-03-01 03:03:00 +01:00 olga (operator) on r1: assigned to piet: "
                "checked on camera",
                "2026-03-01 03:04:00 +01:00 olga (operator) on r1: escalated: checked on camera",
                "2026-03-01 03:05:00 +01:00 olga (operator) on r1: closed: false alarm: "
                "checked on camera",
            )
        ),
        "outcome": "false alarm",
        "assignee": "piet",
        "snapshot_sha256": None,
    }


def test_legacy_closes_read_as_their_outcomes_and_the_last_close_counts() -> None:
    alert = make_alert("b")
    legacy_real = make_action("b", ActionKind.close_real, at=T0 + timedelta(minutes=1))
    legacy_false = make_action("b", ActionKind.close_false_alarm, at=T0 + timedelta(minutes=2))

    real = AlertRow(alert, [alert], [legacy_real]).as_dict(AMSTERDAM)
    assert (real["outcome"], real["assignee"]) == ("confirmed incident", "")
    assert real["handled_by"] == (
        "2026-03-01 03:01:00 +01:00 olga (operator) on r1: closed: confirmed incident: "
        "checked on camera"
    )
    both = AlertRow(alert, [alert], [legacy_real, legacy_false]).as_dict(AMSTERDAM)
    assert both["outcome"] == "false alarm"
    open_alert = AlertRow(alert, [alert], _night()[:4]).as_dict(AMSTERDAM)
    assert (open_alert["outcome"], open_alert["assignee"]) == ("", "piet")


def test_the_table_and_the_timeline_show_the_words(tmp_path: Path) -> None:
    alert = make_alert("a", Severity.critical)
    actions = _night()
    row = AlertRow(alert, [alert], actions)
    page = ReportPage(None, None, 1, "", None, AMSTERDAM, tmp_path)  # type: ignore[arg-type]

    assert page._table_row(row) == (
        '<tr class="sev-critical"><td><a href="#episode-a">a</a></td><td>quay_north</td>'
        "<td>2026-03-01 03:00:00 +01:00</td><td>critical</td><td>critical (r1)</td>"
        f"<td>{row.as_dict(AMSTERDAM)['handled_by']}</td><td>false alarm</td><td>piet</td>"
        "<td></td></tr>"
    )
    marks = [_action_mark(action, AMSTERDAM) for action in actions]
    svg = render_svg(
        Timeline("episode", "a", [Row("operators", marks)], T0, T0 + timedelta(minutes=10)),
        AMSTERDAM,
    )
    titles = re.findall(r'<polygon class="action"[^>]*><title>([^<]*)</title>', svg)
    assert titles == str(row.as_dict(AMSTERDAM)["handled_by"]).split("; ")
