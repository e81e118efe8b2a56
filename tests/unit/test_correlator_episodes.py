"""People passing through a zone one after another are one alert for the operator, not a flood."""

from __future__ import annotations

from datetime import timedelta

from config.correlation import Correlation
from detectors.events import AccessPhase, AccessRule
from streams.access import AccessEvent
from streams.alerts import Alert, Severity
from streams.correlator.engine import CorrelationEngine, alert_id_for
from streams.terminal.events import ContainerActivity
from tests.fixtures.port_story import STORY_START, access_event, container_event, container_number

SEEN = STORY_START
BOX = container_number(21)


def engine(regroup_seconds: float = 300) -> CorrelationEngine:
    settings = Correlation(grace_seconds=120, regroup_seconds=regroup_seconds)
    e = CorrelationEngine(settings, "c" * 64, {"quay-q3": ["Q3"], "quay-q4": ["Q4"]})
    discharged = SEEN - timedelta(days=2)
    e.on_container_event(container_event(BOX, ContainerActivity.discharged, discharged, "Q3"))
    e.on_container_event(
        container_event(BOX, ContainerActivity.selected_for_inspection, SEEN - timedelta(hours=1))
    )
    return e


def person(
    seconds: float,
    incident: str,
    zone: str = "quay-q3",
    phase: AccessPhase = AccessPhase.start,
    rule: AccessRule = AccessRule.intrusion,
) -> AccessEvent:
    event = access_event(zone, SEEN + timedelta(seconds=seconds), incident, phase=phase)
    return event.model_copy(update={"rule": rule})


def walk(e: CorrelationEngine, *events: AccessEvent) -> list[Alert]:
    return [alert for event in events for alert in e.on_access(event) + e.revise()]


def test_people_walking_through_one_after_another_raise_one_alert() -> None:
    e = engine()
    passers = [person(40 * n, f"walker-{n}") for n in range(14)]  # 14 people in ~9 minutes
    [alert] = walk(e, *passers)
    assert alert.alert_id == alert_id_for("walker-0")
    assert (alert.revision, alert.severity) == (1, Severity.critical)
    episode = e.episode_of("quay-q3")
    assert episode is not None and episode.alert_id == alert.alert_id
    assert episode.access_event_ids_at(SEEN.timestamp() + 600) == [p.event_id for p in passers]


def test_the_next_revision_lists_everyone_seen_in_the_episode() -> None:
    e = engine()
    passers = [person(30 * n, f"walker-{n}") for n in range(3)]
    walk(e, *passers)
    # Customs start the inspection while the third person is still around: news to operators.
    e.on_container_event(
        container_event(BOX, ContainerActivity.seal_removed, SEEN + timedelta(seconds=70))
    )
    [revision] = e.revise()
    assert (revision.revision, revision.severity) == (2, Severity.suppressed)
    assert revision.access_event_ids == [p.event_id for p in passers]
    assert revision.last_seen_at == SEEN + timedelta(seconds=60)


def test_a_person_after_a_quiet_gap_raises_a_second_alert() -> None:
    e = engine()
    first, again = walk(e, person(0, "early"), person(10, "early-2"), person(320, "later"))
    assert first.alert_id == alert_id_for("early")
    assert again.alert_id == alert_id_for("later")
    assert again.access_event_ids == [person(320, "later").event_id]


def test_someone_lingering_keeps_the_episode_open() -> None:
    e = engine()
    lingering = [
        person(0, "linger"),
        person(200, "linger", phase=AccessPhase.update),
        person(400, "linger", phase=AccessPhase.end),
    ]
    alerts = walk(e, *lingering, person(650, "passer"))
    assert [a.alert_id for a in alerts] == [alert_id_for("linger")]


def test_each_zone_has_its_own_episode() -> None:
    e = engine()
    q3, q4 = walk(e, person(0, "a"), person(5, "b", zone="quay-q4"))
    assert {q3.zone_id, q4.zone_id} == {"quay-q3", "quay-q4"}
    assert q3.alert_id != q4.alert_id


def test_a_rule_new_to_the_episode_is_a_revision_and_more_of_the_same_is_not() -> None:
    e = engine()
    raised, loiterer = walk(
        e,
        person(0, "a"),
        person(30, "b"),
        person(60, "c", rule=AccessRule.loitering),
        person(90, "d", rule=AccessRule.loitering),
    )
    assert raised.rules == [AccessRule.intrusion]
    assert (loiterer.revision, loiterer.severity) == (2, Severity.critical)
    assert loiterer.rules == [AccessRule.intrusion, AccessRule.loitering]
    assert "loitering" in loiterer.revised_because
    assert len(loiterer.access_event_ids) == 3


def test_regroup_window_zero_raises_one_alert_per_incident() -> None:
    e = engine(regroup_seconds=0)
    alerts = walk(e, person(0, "a"), person(20, "a", phase=AccessPhase.update), person(30, "b"))
    assert [a.alert_id for a in alerts] == [alert_id_for("a"), alert_id_for("b")]


def test_an_episode_rebuilt_from_the_alerts_topic_and_reread_events_ends_the_same() -> None:
    passers = [person(40 * n, f"walker-{n}") for n in range(5)]
    straight = engine()
    walk(straight, *passers, person(400, "after"))
    # Killed after the third person: revision 1 was published, the joins were not, so the
    # correlator did not commit past them and reads them again.
    restarted = engine()
    [published] = walk(engine(), *passers[:3])
    restarted.on_published(published)
    assert restarted.revise() == []
    replayed = walk(restarted, *passers, person(400, "after"))
    assert replayed == []  # everyone joined the published alert, no duplicate
    assert (
        restarted.episode_of("quay-q3").access_events
        == straight.episode_of("quay-q3").access_events
    )


def test_events_not_yet_on_the_alerts_topic_hold_back_their_position() -> None:
    e = engine()
    e.on_access(person(0, "a"), position=("p0", 10))
    assert list(e.held_positions()) == []  # revision 1 says all there is
    e.on_access(person(30, "b"), position=("p0", 11))
    e.on_access(person(60, "c"), position=("p0", 12))
    assert list(e.held_positions()) == [("p0", 11)]
    e.on_container_event(
        container_event(BOX, ContainerActivity.seal_removed, SEEN + timedelta(seconds=70))
    )
    [revision] = e.revise()
    assert revision.access_event_ids[-1] == person(60, "c").event_id
    assert list(e.held_positions()) == []
