"""Late terminal news revises an alert within the grace period, in event time, deterministically."""

from __future__ import annotations

from datetime import timedelta

from config.correlation import Correlation
from streams.alerts import Alert, Severity
from streams.correlator.engine import CorrelationEngine
from streams.terminal.events import ContainerActivity
from tests.fixtures.port_story import STORY_START, access_event, container_event, container_number

SEEN = STORY_START
BOX = container_number(11)


def engine(box_in_yard: bool = True) -> CorrelationEngine:
    """An engine for zone quay-q3 (block Q3), where BOX has stood for two days unless not."""
    e = CorrelationEngine(Correlation(grace_seconds=120), "c" * 64, {"quay-q3": ["Q3"]})
    if box_in_yard:
        long_ago = SEEN - timedelta(days=2)
        e.on_container_event(container_event(BOX, ContainerActivity.discharged, long_ago, "Q3"))
    return e


def selection(seconds_after_seen: float):
    at = SEEN + timedelta(seconds=seconds_after_seen)
    return container_event(BOX, ContainerActivity.selected_for_inspection, at)


def person_seen(e: CorrelationEngine) -> list[Alert]:
    return e.on_access(access_event("quay-q3", SEEN, "inc-1"))


def selected_later(e: CorrelationEngine, seconds_after_seen: float) -> list[Alert]:
    """The revisions due once customs select BOX `seconds_after_seen` the person."""
    e.on_container_event(selection(seconds_after_seen))
    return e.revise()


def test_selection_reported_30s_after_the_person_upgrades_the_alert_by_revision() -> None:
    e = engine()
    [first] = person_seen(e)
    assert (first.revision, first.severity) == (1, Severity.medium)
    [second] = selected_later(e, 30)
    assert second.alert_id == first.alert_id
    assert (second.revision, second.severity) == (2, Severity.critical)
    assert second.as_of == SEEN + timedelta(seconds=30)
    assert "medium" in second.revised_because and "critical" in second.revised_because


def test_selection_reported_after_the_grace_period_changes_nothing() -> None:
    e = engine()
    person_seen(e)
    assert selected_later(e, 121) == []


def test_discharge_that_happened_before_but_was_recorded_late_counts_from_its_recording() -> None:
    e = engine(box_in_yard=False)
    [first] = person_seen(e)
    assert first.severity is Severity.medium
    late = container_event(
        BOX,
        ContainerActivity.discharged,
        SEEN - timedelta(minutes=20),
        "Q3",
        recorded_at=SEEN + timedelta(seconds=45),
    )
    e.on_container_event(late)
    [second] = e.revise()
    assert (second.revision, second.severity) == (2, Severity.high)


def test_news_known_before_processing_gives_the_same_revisions_as_news_after() -> None:
    early = engine()
    early.on_container_event(selection(30))
    raised = person_seen(early)
    late = engine()
    raised_late = person_seen(late) + selected_later(late, 30)
    assert [a.to_bytes() for a in raised] == [a.to_bytes() for a in raised_late]


def test_a_restarted_engine_publishes_only_the_revisions_still_missing() -> None:
    before = engine()
    [first] = person_seen(before)
    # The crash came after revision 1 was acknowledged, before the selection was handled.
    after = engine()
    after.on_container_event(selection(30))
    after.on_published(first)
    [second] = after.revise()
    assert (second.revision, second.severity) == (2, Severity.critical)
    after.on_published(second)
    assert after.revise() == []
    assert person_seen(after) == []


def test_news_read_after_a_learnt_revision_revises_it_as_the_uninterrupted_engine_does() -> None:
    uninterrupted = engine()
    [first] = person_seen(uninterrupted)
    [second] = selected_later(uninterrupted, 30)
    # A start-up read that met revision 1 before the news, judged before or after the news.
    unjudged, judged = engine(), engine()
    for restarted in (unjudged, judged):
        restarted.on_published(first)
    assert judged.revise() == []
    for restarted in (unjudged, judged):
        assert [a.to_bytes() for a in selected_later(restarted, 30)] == [second.to_bytes()]


def test_settled_episodes_are_forgotten_but_still_deduplicated() -> None:
    e = engine()
    person_seen(e)
    assert selected_later(e, 3600) == []
    assert e.settle() == 1
    assert e.open_episodes == {}
    assert person_seen(e) == []
