"""Timelines kept between calls say exactly what judging every point afresh says.

An episode keeps its judgements by point (`streams/correlator/timeline.py`) and forgets them
from the moment of news or of a first firing on. These tests tell a night to two engines, one
keeping its judgements and one judging afresh on every call, while the access events are
judged only as far as they have been read (as an owner of their partition does), the terminal
news arrives out of the order it became visible in (shuffled within stretches of the night),
some people loiter (a rule first firing in the middle of an episode), and with a restart
half-way that rebuilds the episodes from the published revisions: every revision of both logs
must be the same, byte for byte.
"""

from __future__ import annotations

import random

import pytest

from detectors.events import AccessPhase, AccessRule
from streams.access import AccessEvent
from streams.alerts import Alert
from streams.correlator.engine import CorrelationEngine
from streams.correlator.timeline import JudgedPoints
from streams.terminal.events import ContainerEvent
from tests.fixtures.port_story import port_night
from tests.unit.test_correlator_alert_log import engine

TURN = 20
# Five hundred containers a block: news every minute or two in each, so kept points meet it.
NIGHT = {"seed": 13, "containers": 3000, "incidents": 300, "blocks": 6}
STRETCH = 400  # terminal events arrive shuffled within stretches of this many events


def shuffled_news(night: list[ContainerEvent | AccessEvent]) -> list[ContainerEvent | AccessEvent]:
    """The night with the terminal events of each stretch in a random order, people in place."""
    rng, told = random.Random(5), list(night)
    for start in range(0, len(told), STRETCH):
        places = [n for n in range(start, min(start + STRETCH, len(told))) if _news(told[n])]
        news = [told[n] for n in places]
        rng.shuffle(news)
        for place, event in zip(places, news, strict=True):
            told[place] = event
    return told


def _news(event: ContainerEvent | AccessEvent) -> bool:
    return isinstance(event, ContainerEvent)


def some_loiter(night: list[ContainerEvent | AccessEvent]) -> list[ContainerEvent | AccessEvent]:
    """Every third incident's later phases reported as loitering instead of intrusion."""
    return [
        event.model_copy(update={"rule": AccessRule.loitering})
        if isinstance(event, AccessEvent)
        and event.phase is not AccessPhase.start
        and int(event.incident_id.rsplit("-", 1)[1]) % 3 == 0
        else event
        for event in night
    ]


class ReadSoFar:
    """Judged up to the latest access event read: what an owner of every partition knows;
    or, `ahead`, to the end of every grace period at once (a single engine's default)."""

    def __init__(self, ahead: bool) -> None:
        self.ahead = ahead
        self.moment = float("-inf")

    def __call__(self, zone_id: str) -> float:
        return float("inf") if self.ahead else self.moment


def tell(night: list[ContainerEvent | AccessEvent], restart_at: int, ahead: bool) -> list[bytes]:
    read = ReadSoFar(ahead)
    e = engine(NIGHT["blocks"])
    e.judged_up_to = read
    published: list[Alert] = []
    people = 0
    for number, event in enumerate(night):
        if number == restart_at:
            e = restarted(night[:number], published, read)
        if isinstance(event, ContainerEvent):
            e.on_container_event(event)
            continue
        read.moment = max(read.moment, event.event_time.timestamp())
        alerts = e.on_access(event)
        people += 1
        if people % TURN == 0:
            alerts += e.revise()
            e.settle()
        published += alerts
        for alert in alerts:
            e.on_published(alert)
    read.moment = float("inf")
    published += e.revise()
    return [alert.to_bytes() for alert in published]


def restarted(
    before: list[ContainerEvent | AccessEvent], published: list[Alert], read: ReadSoFar
) -> CorrelationEngine:
    """An engine started again: the terminal topic and the alerts topic read first, then the
    access events after the last commit (here: all of them again, as none was committed)."""
    e = engine(NIGHT["blocks"])
    e.judged_up_to = read
    for event in before:
        if isinstance(event, ContainerEvent):
            e.on_container_event(event)
    for alert in published:
        e.on_published(alert)
    for event in before:
        if isinstance(event, AccessEvent):
            published += e.on_access(event)
    return e


@pytest.mark.parametrize(
    ("news_in_order", "ahead", "restart_at"),
    [(True, False, None), (False, False, 4000), (True, True, None), (False, True, 4000)],
)
def test_kept_judgements_change_no_revision(
    monkeypatch: pytest.MonkeyPatch, news_in_order: bool, ahead: bool, restart_at: int | None
) -> None:
    night = port_night(**NIGHT)
    night = some_loiter(night if news_in_order else shuffled_news(night))
    at = len(night) + 1 if restart_at is None else restart_at
    kept = tell(night, at, ahead)
    with monkeypatch.context() as afresh:
        afresh.setattr(JudgedPoints, "get", lambda self, point: None)
        # Nor is an episode judged to the same moment as before passed over.
        afresh.setattr(JudgedPoints, "through", property(lambda self: None, lambda self, _: None))
        judged_afresh = tell(night, at, ahead)
    assert len(kept) > 250
    assert kept == judged_afresh
