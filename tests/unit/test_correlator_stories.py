"""The port's stories, told to the correlation engine directly (no broker)."""

from __future__ import annotations

from datetime import timedelta

from config.correlation import Correlation
from streams.alerts import Alert, Severity
from streams.correlator.engine import CorrelationEngine, alert_id_for
from streams.terminal.events import Classifier, ContainerActivity, ContainerEvent
from tests.fixtures.port_story import (
    STORY_START,
    access_event,
    container_event,
    container_number,
    minutes,
)

Q3 = "Q3"
NIGHT = STORY_START
BOX = container_number(1)
OTHER_BOX = container_number(2)


def engine(**correlation: object) -> CorrelationEngine:
    settings = Correlation(fresh_unload_minutes=240, grace_seconds=120, **correlation)
    return CorrelationEngine(settings, "c" * 64, {"quay-q3": [Q3], "empty-lane": ["Z9"]})


def visit(
    number: str, discharged_hours_before: float, **minutes_before: float
) -> list[ContainerEvent]:
    """A container's visit: discharged into Q3, then each named activity (a ContainerActivity)
    that many minutes before the night's person is seen."""
    discharged = NIGHT - minutes(60 * discharged_hours_before)
    return [container_event(number, ContainerActivity.discharged, discharged, Q3)] + [
        container_event(number, ContainerActivity[activity], NIGHT - minutes(before))
        for activity, before in minutes_before.items()
    ]


def person_in(e: CorrelationEngine, zone: str = "quay-q3", incident: str = "inc-1", after=None):
    at = NIGHT + (after or timedelta())
    return e.on_access(access_event(zone, at, incident))


def alert_for_person(*yard: ContainerEvent, zone: str = "quay-q3", **correlation: object) -> Alert:
    """The one alert for a person seen in `zone` at night, after the yard's container events."""
    e = engine(**correlation)
    for event in yard:
        e.on_container_event(event)
    [alert] = person_in(e, zone)
    return alert


def test_person_next_to_container_selected_but_not_inspected_is_critical() -> None:
    alert = alert_for_person(*visit(BOX, 30, selected_for_inspection=60))
    assert alert.severity is Severity.critical
    assert alert.revision == 1
    assert BOX in alert.reason and "not yet inspected" in alert.reason
    assert alert.containers[0].container_number == BOX
    assert alert.containers[0].condition == "selected_not_inspected"


def test_person_during_inspection_of_that_container_is_suppressed() -> None:
    alert = alert_for_person(*visit(BOX, 30, selected_for_inspection=60, seal_removed=5))
    assert alert.severity is Severity.suppressed
    assert "inspection" in alert.reason


def test_person_next_to_released_container_is_medium() -> None:
    alert = alert_for_person(*visit(BOX, 1, selected_for_scan=50, released=10))
    assert alert.severity is Severity.medium
    assert "released" in alert.reason


def test_person_next_to_freshly_discharged_unselected_container_is_high() -> None:
    alert = alert_for_person(*visit(BOX, 2))
    assert alert.severity is Severity.high
    assert "discharged" in alert.reason


def test_container_discharged_long_ago_is_not_fresh() -> None:
    assert alert_for_person(*visit(BOX, 5)).severity is Severity.medium


def test_person_in_zone_without_containers_is_medium() -> None:
    alert = alert_for_person(*visit(BOX, 1), zone="empty-lane")
    assert alert.severity is Severity.medium
    assert "no containers" in alert.reason


def test_selected_container_waiting_next_to_an_inspection_stays_critical_outside_bays() -> None:
    yard = [
        *visit(BOX, 30, selected_for_inspection=60),
        *visit(OTHER_BOX, 30, selected_for_inspection=60, seal_removed=5),
    ]
    assert alert_for_person(*yard).severity is Severity.critical
    in_bay = alert_for_person(*yard, inspection_bay_blocks=[Q3])
    assert in_bay.severity is Severity.suppressed


def test_planned_discharge_does_not_put_a_container_in_the_yard() -> None:
    planned = container_event(
        BOX, ContainerActivity.discharged, NIGHT - minutes(30), Q3, classifier=Classifier.planned
    )
    assert alert_for_person(planned).severity is Severity.medium


def test_container_gated_out_is_no_longer_in_the_zone() -> None:
    alert = alert_for_person(*visit(BOX, 1, selected_for_inspection=50, gated_out=10))
    assert alert.severity is Severity.medium


def test_state_is_as_of_the_access_events_own_time() -> None:
    # Selected an hour after the person was seen: not news for that moment, nor in grace.
    selected_later = container_event(
        BOX, ContainerActivity.selected_for_inspection, NIGHT + minutes(60)
    )
    alert = alert_for_person(*visit(BOX, 30), selected_later)
    assert alert.severity is Severity.medium


def test_later_phases_of_an_incident_raise_nothing_new() -> None:
    e = engine()
    for event in visit(BOX, 1):
        e.on_container_event(event)
    [alert] = person_in(e, incident="inc-7")
    assert alert.alert_id == alert_id_for("inc-7")
    assert person_in(e, incident="inc-7", after=timedelta(seconds=20)) == []
