"""Terminal news counts from when quaywatch ingested it, not from the source's recorded_at."""

from __future__ import annotations

from datetime import timedelta

from config.correlation import Correlation
from streams.alerts import Alert, Severity
from streams.correlator.engine import CorrelationEngine
from streams.terminal.events import ContainerActivity, ContainerEvent
from tests.fixtures.port_story import STORY_START, access_event, container_event, container_number

SEEN = STORY_START
BOX = container_number(21)
IN_YARD = container_event(BOX, ContainerActivity.discharged, SEEN - timedelta(days=2), "Q3")


def late_selection(ingested_after_seen: float) -> ContainerEvent:
    """Customs selected BOX an hour before the person; the source says it recorded that then,
    its batch reached quaywatch `ingested_after_seen` seconds after the person was seen."""
    selected = SEEN - timedelta(hours=1)
    event = container_event(BOX, ContainerActivity.selected_for_inspection, selected)
    return event.model_copy(update={"ingested_at": SEEN + timedelta(seconds=ingested_after_seen)})


def engine() -> CorrelationEngine:
    e = CorrelationEngine(Correlation(grace_seconds=120), "c" * 64, {"quay-q3": ["Q3"]})
    e.on_container_event(IN_YARD)
    return e


def alert_log(news_first: bool, ingested_after_seen: float) -> list[bytes]:
    """Every revision the engine publishes, news read before the person (a restart or a replay
    that finds it on the topic) or after (live)."""
    e = engine()
    alerts: list[Alert] = []
    if news_first:
        e.on_container_event(late_selection(ingested_after_seen))
    alerts += e.on_access(access_event("quay-q3", SEEN, "inc-1", ["Q3"]))
    if not news_first:
        e.on_container_event(late_selection(ingested_after_seen))
        alerts += e.revise()
    return [alert.to_bytes() for alert in alerts]


def test_a_batch_ingested_after_the_grace_period_revises_nothing_however_early_it_was_recorded():
    live, restarted = alert_log(False, 600), alert_log(True, 600)
    assert live == restarted
    [only] = [Alert.from_bytes(raw) for raw in live]
    assert only.severity is Severity.medium


def test_a_batch_ingested_within_the_grace_period_revises_at_its_ingestion():
    live, restarted = alert_log(False, 30), alert_log(True, 30)
    assert live == restarted
    first, second = (Alert.from_bytes(raw) for raw in live)
    assert (first.severity, second.severity) == (Severity.medium, Severity.critical)
    assert second.as_of == SEEN + timedelta(seconds=30)


def test_an_event_keeps_the_stamp_of_its_first_ingestion():
    stamped = late_selection(30)
    assert stamped.ingested(SEEN + timedelta(days=1)) == stamped
    assert stamped.known_from == SEEN + timedelta(seconds=30)
    assert stamped.recorded_at == SEEN - timedelta(hours=1)
