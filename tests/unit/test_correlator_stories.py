"""The port's stories, told to the correlation engine directly (no broker)."""

from __future__ import annotations

from datetime import timedelta

from config.correlation import Correlation
from streams.alerts import Severity
from streams.correlator.engine import CorrelationEngine, alert_id_for
from streams.terminal.events import Classifier, ContainerActivity
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


def discharged(e: CorrelationEngine, number: str, hours_before: float) -> None:
    e.on_container_event(
        container_event(
            number, ContainerActivity.discharged, NIGHT - minutes(60 * hours_before), Q3
        )
    )


def happened(e: CorrelationEngine, number: str, activity: ContainerActivity, mins: float) -> None:
    e.on_container_event(container_event(number, activity, NIGHT - minutes(mins)))


def person_in(e: CorrelationEngine, zone: str = "quay-q3", incident: str = "inc-1", after=None):
    at = NIGHT + (after or timedelta())
    return e.on_access(access_event(zone, at, incident))


def test_person_next_to_container_selected_but_not_inspected_is_critical() -> None:
    e = engine()
    discharged(e, BOX, hours_before=30)
    happened(e, BOX, ContainerActivity.selected_for_inspection, 60)
    [alert] = person_in(e)
    assert alert.severity is Severity.critical
    assert alert.revision == 1
    assert BOX in alert.reason and "not yet inspected" in alert.reason
    assert alert.containers[0].container_number == BOX
    assert alert.containers[0].condition == "selected_not_inspected"


def test_person_during_inspection_of_that_container_is_suppressed() -> None:
    e = engine()
    discharged(e, BOX, hours_before=30)
    happened(e, BOX, ContainerActivity.selected_for_inspection, 60)
    happened(e, BOX, ContainerActivity.seal_removed, 5)
    [alert] = person_in(e)
    assert alert.severity is Severity.suppressed
    assert "inspection" in alert.reason


def test_person_next_to_released_container_is_medium() -> None:
    e = engine()
    discharged(e, BOX, hours_before=1)
    happened(e, BOX, ContainerActivity.selected_for_scan, 50)
    happened(e, BOX, ContainerActivity.released, 10)
    [alert] = person_in(e)
    assert alert.severity is Severity.medium
    assert "released" in alert.reason


def test_person_next_to_freshly_discharged_unselected_container_is_high() -> None:
    e = engine()
    discharged(e, BOX, hours_before=2)
    [alert] = person_in(e)
    assert alert.severity is Severity.high
    assert "discharged" in alert.reason


def test_container_discharged_long_ago_is_not_fresh() -> None:
    e = engine()
    discharged(e, BOX, hours_before=5)
    [alert] = person_in(e)
    assert alert.severity is Severity.medium


def test_person_in_zone_without_containers_is_medium() -> None:
    e = engine()
    discharged(e, BOX, hours_before=1)
    [alert] = person_in(e, zone="empty-lane")
    assert alert.severity is Severity.medium
    assert "no containers" in alert.reason


def test_selected_container_waiting_next_to_an_inspection_stays_critical_outside_bays() -> None:
    e = engine()
    for number in (BOX, OTHER_BOX):
        discharged(e, number, hours_before=30)
        happened(e, number, ContainerActivity.selected_for_inspection, 60)
    happened(e, OTHER_BOX, ContainerActivity.seal_removed, 5)
    assert person_in(e)[0].severity is Severity.critical
    in_bay = engine(inspection_bay_blocks=[Q3])
    for number in (BOX, OTHER_BOX):
        discharged(in_bay, number, hours_before=30)
        happened(in_bay, number, ContainerActivity.selected_for_inspection, 60)
    happened(in_bay, OTHER_BOX, ContainerActivity.seal_removed, 5)
    assert person_in(in_bay)[0].severity is Severity.suppressed


def test_planned_discharge_does_not_put_a_container_in_the_yard() -> None:
    e = engine()
    e.on_container_event(
        container_event(
            BOX,
            ContainerActivity.discharged,
            NIGHT - minutes(30),
            Q3,
            classifier=Classifier.planned,
        )
    )
    [alert] = person_in(e)
    assert alert.severity is Severity.medium


def test_container_gated_out_is_no_longer_in_the_zone() -> None:
    e = engine()
    discharged(e, BOX, hours_before=1)
    happened(e, BOX, ContainerActivity.selected_for_inspection, 50)
    happened(e, BOX, ContainerActivity.gated_out, 10)
    assert person_in(e)[0].severity is Severity.medium


def test_state_is_as_of_the_access_events_own_time() -> None:
    e = engine()
    discharged(e, BOX, hours_before=30)
    # Selected an hour after the person was seen: not news for that moment, nor in grace.
    e.on_container_event(
        container_event(BOX, ContainerActivity.selected_for_inspection, NIGHT + minutes(60))
    )
    [alert] = person_in(e)
    assert alert.severity is Severity.medium


def test_later_phases_of_an_incident_raise_nothing_new() -> None:
    e = engine()
    discharged(e, BOX, hours_before=1)
    [alert] = person_in(e, incident="inc-7")
    assert alert.alert_id == alert_id_for("inc-7")
    assert person_in(e, incident="inc-7", after=timedelta(seconds=20)) == []
