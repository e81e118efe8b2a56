"""The engine's complete alert log on a made-up port night stays what it was, byte for byte.

The engine keeps indexes, snapshots and caches so that it does not refold the yard for every
access event; none of that may change a single revision. The recorded logs in
`tests/data/alert-log` were written by the engine that still rebuilt every episode's timeline
per access event (`python -m tests.unit.test_correlator_alert_log` writes them again: only
for a deliberate change of what alerts say). Two orders are told: the bench's (the whole
terminal topic known before the first access event) and the live loop's (news and people
interleaved as they reached the broker, a poll's worth of access events per turn, the
published revisions learnt back).
"""

from __future__ import annotations

import gzip
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from config.correlation import Correlation
from streams.access import AccessEvent
from streams.alerts import Alert
from streams.correlator.engine import CorrelationEngine
from streams.terminal.events import ContainerEvent
from tests.fixtures.port_story import port_night

Night = list[ContainerEvent | AccessEvent]
LOGS = Path(__file__).resolve().parents[1] / "data" / "alert-log"
# A crowded yard (100 containers a block: more than an alert lists, so the ranking and the
# cut-off count) and busy zones (a person every few minutes: episodes that people join, rules
# and news revising them, a few containers a block in every condition, an inspection bay).
NIGHTS = {
    "crowded-yard": {"seed": 11, "containers": 4000, "incidents": 200, "blocks": 40},
    "busy-zones": {"seed": 12, "containers": 120, "incidents": 900, "blocks": 12},
}
CORRELATION = Correlation(inspection_bay_blocks=["B1"])
TURN = 25  # access events per loop turn


def engine(blocks: int) -> CorrelationEngine:
    zones = {f"zone-B{n}": [f"B{n}"] for n in range(blocks)} | {f"zone-B{blocks}": []}
    return CorrelationEngine(CORRELATION, "c" * 64, zones)


def terminal_known_first(e: CorrelationEngine, night: Night) -> list[Alert]:
    alerts = []
    for event in night:
        if isinstance(event, ContainerEvent):
            e.on_container_event(event)
    people = [event for event in night if isinstance(event, AccessEvent)]
    for start in range(0, len(people), TURN):
        alerts += turn(e, people[start : start + TURN])
    return alerts + e.revise()


def as_they_came(e: CorrelationEngine, night: Night) -> list[Alert]:
    alerts, people = [], []
    for event in night:
        if isinstance(event, ContainerEvent):
            e.on_container_event(event)
            continue
        people.append(event)
        if len(people) == TURN:
            alerts += turn(e, people)
            people = []
    return alerts + turn(e, people) + e.revise()


def turn(e: CorrelationEngine, people: list[AccessEvent]) -> list[Alert]:
    """One turn of the live loop: join, revise, learn what was published back, settle."""
    alerts = [alert for person in people for alert in e.on_access(person)] + e.revise()
    for alert in alerts:
        e.on_published(alert)
    e.settle()
    return alerts


ORDERS: dict[str, Callable[[CorrelationEngine, Night], list[Alert]]] = {
    "terminal-known-first": terminal_known_first,
    "as-they-came": as_they_came,
}


def alert_log(alerts: list[Alert]) -> list[str]:
    return [alert.to_bytes().decode() for alert in alerts]


def told(night: str, order: str) -> list[str]:
    size = NIGHTS[night]
    return alert_log(ORDERS[order](engine(size["blocks"]), port_night(**size)))


def recorded_path(night: str, order: str) -> Path:
    return LOGS / f"{night}.{order}.jsonl.gz"


@pytest.mark.parametrize("night", NIGHTS)
@pytest.mark.parametrize("order", ORDERS)
def test_every_revision_of_the_night_is_the_recorded_one(night: str, order: str) -> None:
    path = recorded_path(night, order)
    recorded = gzip.decompress(path.read_bytes()).decode().splitlines()
    now = told(night, order)
    assert len(now) == len(recorded)
    for number, (revision, was) in enumerate(zip(now, recorded, strict=True)):
        assert revision == was, f"revision {number} of {path.name} differs"


if __name__ == "__main__":
    LOGS.mkdir(parents=True, exist_ok=True)
    for night in NIGHTS:
        for order in ORDERS:
            lines, path = told(night, order), recorded_path(night, order)
            path.write_bytes(gzip.compress("\n".join(lines).encode() + b"\n", mtime=0))
            print(f"{path}: {len(lines)} revisions", file=sys.stderr)
