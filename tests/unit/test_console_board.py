"""The console board: latest revision per alert, ranked; actions from any console; camera health."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from detectors.events import AccessRule
from ingest.frames import CameraStatus
from quaywatch.console.board import AlertState, Board
from streams.alerts import Alert, ContainerAtAlert, ContainerCondition, Severity
from streams.camera_health import CameraHealth
from streams.operator_actions import ActionKind, CloseOutcome, OperatorAction

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def make_alert(
    alert_id: str,
    severity: Severity = Severity.medium,
    revision: int = 1,
    seen_at: datetime = T0,
    reason: str = "person in a restricted zone",
    snapshot_sha256: str | None = None,
) -> Alert:
    """A complete alert as the correlator publishes it; used by the console's other tests too."""
    container = ContainerAtAlert(
        container_number="MSCU1234565",
        condition=ContainerCondition.selected_not_inspected,
        yard_block="Q3",
        yard_position="Q3-12-04-2",
        discharged_at=seen_at - timedelta(hours=2),
        selected_for_scan_at=None,
        selected_for_inspection_at=seen_at - timedelta(hours=1),
        inspection_started_at=None,
        inspection_finished_at=None,
        released_at=None,
    )
    return Alert.create(
        event_id=f"{alert_id}:r{revision}",
        event_time=seen_at,
        alert_id=alert_id,
        revision=revision,
        severity=severity,
        reason=reason,
        as_of=seen_at + timedelta(seconds=30 * (revision - 1)),
        site_id="demo",
        zone_id="quay_north",
        camera_id="cam-quay",
        yard_blocks=["Q3"],
        incident_id=f"incident-{alert_id}",
        access_event_ids=[f"access-{alert_id}-start"],
        rules=[AccessRule.intrusion],
        containers=[container] if severity is Severity.critical else [],
        containers_in_zone=3,
        snapshot_sha256=snapshot_sha256,
        access_config_hash="c" * 64,
        config_hash="c" * 64,
    )


def make_action(
    alert_id: str,
    kind: ActionKind,
    revision: int = 1,
    at: datetime = T0,
    event_id: str = "",
    **fields: object,
) -> OperatorAction:
    return OperatorAction.create(
        event_id=event_id or f"{alert_id}-{kind}-{revision}-{at.timestamp()}",
        event_time=at,
        alert_id=alert_id,
        alert_revision=revision,
        action=kind,
        reason="checked on camera",
        operator="olga",
        role="operator",
        console_id="other-console",
        **fields,
    )


def ids(board: Board) -> list[str]:
    return [entry.alert.alert_id for entry in board.entries()]


def test_alerts_are_ordered_by_severity_then_newest_first() -> None:
    board = Board()
    board.apply_alert(make_alert("old-medium", Severity.medium, seen_at=T0))
    board.apply_alert(make_alert("critical", Severity.critical, seen_at=T0))
    board.apply_alert(make_alert("new-medium", Severity.medium, seen_at=T0 + timedelta(minutes=5)))
    board.apply_alert(make_alert("high", Severity.high, seen_at=T0 + timedelta(minutes=1)))
    board.apply_alert(make_alert("expected", Severity.suppressed, seen_at=T0 + timedelta(hours=1)))
    assert ids(board) == ["critical", "high", "new-medium", "old-medium", "expected"]


def test_an_upgraded_revision_replaces_the_alert_moves_it_up_and_says_from_what() -> None:
    board = Board()
    board.apply_alert(make_alert("a", Severity.high, seen_at=T0 + timedelta(minutes=1)))
    board.apply_alert(make_alert("b", Severity.medium, seen_at=T0))
    board.apply_alert(
        make_alert("b", Severity.critical, revision=2, reason="container selected by customs")
    )
    assert ids(board) == ["b", "a"]
    upgraded = board.entry("b")
    assert upgraded is not None
    assert upgraded.alert.revision == 2
    assert upgraded.alert.reason == "container selected by customs"
    assert upgraded.upgraded_from is Severity.medium
    assert board.entry("a").upgraded_from is None  # type: ignore[union-attr]


def test_a_redelivered_or_older_revision_changes_nothing() -> None:
    board = Board()
    board.apply_alert(make_alert("a", Severity.medium, revision=1))
    board.apply_alert(make_alert("a", Severity.critical, revision=2))
    board.apply_alert(make_alert("a", Severity.medium, revision=1))
    entry = board.entry("a")
    assert entry is not None and entry.alert.revision == 2
    assert entry.alert.severity is Severity.critical


def test_actions_set_the_state_and_closed_alerts_sink_to_the_bottom() -> None:
    board = Board()
    board.apply_alert(make_alert("critical", Severity.critical))
    board.apply_alert(make_alert("medium", Severity.medium))
    assert board.entry("critical").state is AlertState.unacknowledged  # type: ignore[union-attr]
    board.apply_action(make_action("critical", ActionKind.acknowledge))
    assert board.entry("critical").state is AlertState.acknowledged  # type: ignore[union-attr]
    board.apply_action(
        make_action("critical", ActionKind.close_false_alarm, at=T0 + timedelta(minutes=2))
    )
    closed = board.entry("critical")
    assert closed is not None and closed.state is AlertState.closed
    # A close written before outcomes existed reads as the outcome it stood for.
    assert closed.outcome is CloseOutcome.false_alarm
    assert ids(board) == ["medium", "critical"]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_a_shelved_alert_returns_unacknowledged_when_its_time_ends() -> None:
    clock = Clock(T0 + timedelta(minutes=1))
    board = Board(clock)
    board.apply_alert(make_alert("a", Severity.high))
    board.apply_alert(make_alert("b", Severity.medium))
    until = T0 + timedelta(minutes=16)
    board.apply_action(
        make_action("a", ActionKind.shelve, at=T0 + timedelta(minutes=1), shelved_until=until)
    )
    shelved = board.entry("a")
    assert shelved is not None
    assert (shelved.state, shelved.shelved_until) == (AlertState.shelved, until)
    assert ids(board) == ["b", "a"]  # out of the way while shelved
    assert board.next_shelf_end() == until
    clock.now = until
    back = board.entry("a")
    assert back is not None
    assert (back.state, back.shelved_until) == (AlertState.unacknowledged, None)
    assert ids(board) == ["a", "b"]
    assert board.next_shelf_end() is None


def test_assigning_names_the_operator_and_leaves_the_state_as_it_was() -> None:
    board = Board()
    board.apply_alert(make_alert("a", Severity.critical))
    board.apply_action(make_action("a", ActionKind.acknowledge, at=T0 + timedelta(seconds=40)))
    board.apply_action(make_action("a", ActionKind.assign, at=T0 + timedelta(60), assignee="piet"))
    entry = board.entry("a")
    assert entry is not None
    assert (entry.state, entry.assignee) == (AlertState.acknowledged, "piet")


def test_expected_presence_is_not_an_alarm_waiting_for_acknowledgement() -> None:
    board = Board()
    board.apply_alert(make_alert("inspection", Severity.suppressed))
    entry = board.entry("inspection")
    assert entry is not None and entry.state is AlertState.expected and entry.state.open
    board.apply_action(
        make_action(
            "inspection",
            ActionKind.close,
            outcome=CloseOutcome.authorised_presence,
            at=T0 + timedelta(minutes=1),
        )
    )
    closed = board.entry("inspection")
    assert closed is not None
    assert (closed.state, closed.outcome) == (AlertState.closed, CloseOutcome.authorised_presence)


def test_time_to_acknowledge_runs_from_publication_to_the_first_response() -> None:
    board = Board()
    published = T0 + timedelta(hours=5)  # footage seen at T0, replayed later
    board.apply_alert(make_alert("a", Severity.critical).stamped(published))
    entry = board.entry("a")
    assert entry is not None and entry.time_to_acknowledge_seconds is None
    board.apply_action(
        make_action("a", ActionKind.assign, at=published + timedelta(5), assignee="x")
    )
    assert board.entry("a").time_to_acknowledge_seconds is None  # type: ignore[union-attr]
    board.apply_action(make_action("a", ActionKind.escalate, at=published + timedelta(seconds=42)))
    board.apply_action(
        make_action("a", ActionKind.acknowledge, at=published + timedelta(seconds=90))
    )
    assert board.entry("a").time_to_acknowledge_seconds == 42.0  # type: ignore[union-attr]


def test_an_action_read_before_its_alert_applies_once_the_alert_arrives() -> None:
    board = Board()
    board.apply_action(make_action("late", ActionKind.escalate))
    board.apply_alert(make_alert("late", Severity.high))
    assert board.entry("late").state is AlertState.escalated  # type: ignore[union-attr]


def test_a_redelivered_action_counts_once() -> None:
    board = Board()
    board.apply_alert(make_alert("a"))
    board.apply_action(make_action("a", ActionKind.acknowledge, event_id="same"))
    board.apply_action(make_action("a", ActionKind.acknowledge, event_id="same"))
    assert len(board.entry("a").actions) == 1  # type: ignore[union-attr]
    assert len(board.actions()) == 1


def test_an_alert_that_got_worse_after_acknowledgement_needs_acknowledging_again() -> None:
    board = Board()
    board.apply_alert(make_alert("a", Severity.medium, revision=1))
    board.apply_action(make_action("a", ActionKind.acknowledge, revision=1))
    board.apply_alert(make_alert("a", Severity.medium, revision=2))
    assert board.entry("a").state is AlertState.acknowledged  # type: ignore[union-attr]
    board.apply_alert(make_alert("a", Severity.critical, revision=3))
    assert board.entry("a").state is AlertState.unacknowledged  # type: ignore[union-attr]
    board.apply_action(make_action("a", ActionKind.acknowledge, revision=3, at=T0 + timedelta(1)))
    assert board.entry("a").state is AlertState.acknowledged  # type: ignore[union-attr]


def test_every_change_notifies_listeners_until_they_unsubscribe() -> None:
    board = Board()
    calls: list[int] = []
    unsubscribe = board.subscribe(lambda: calls.append(board.version))
    board.apply_alert(make_alert("a"))
    board.apply_action(make_action("a", ActionKind.acknowledge))
    unsubscribe()
    board.apply_alert(make_alert("b"))
    assert calls == [1, 2]


def test_camera_health_keeps_the_latest_report_per_camera() -> None:
    board = Board()

    def health(camera_id: str, status: CameraStatus, minute: int) -> CameraHealth:
        return CameraHealth.create(
            event_id=f"{camera_id}-{minute}",
            event_time=T0 + timedelta(minutes=minute),
            site_id="demo",
            camera_id=camera_id,
            status=status,
            detail="",
        )

    board.apply_health(health("cam-b", CameraStatus.online, 0))
    board.apply_health(health("cam-a", CameraStatus.online, 0))
    board.apply_health(health("cam-a", CameraStatus.blacked_out, 5))
    board.apply_health(health("cam-a", CameraStatus.online, 1))  # late and older
    assert [(h.camera_id, h.status) for h in board.cameras()] == [
        ("cam-a", CameraStatus.blacked_out),
        ("cam-b", CameraStatus.online),
    ]
