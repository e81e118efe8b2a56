"""A checkpoint of the correlator's state stands in for the records before it: an engine
restored from one and fed the rest says what an engine fed everything says."""

from __future__ import annotations

import json
from dataclasses import replace

import jsonschema
import pytest
from kafka import TopicPartition

from config.correlation import Correlation
from streams.access import AccessEvent
from streams.alerts import Alert
from streams.correlator.checkpoint import (
    PART_BYTES,
    Claim,
    complete_checkpoints,
    parts_of,
    restore,
)
from streams.correlator.engine import CorrelationEngine
from streams.correlator.knowledge import DeadLetters
from streams.correlator_checkpoint import CorrelatorCheckpoint
from streams.terminal.events import ContainerEvent
from tests.fixtures.port_story import port_night
from tests.unit.test_correlator_schemas import schema_file

NIGHT = port_night(seed=21, containers=6000, incidents=300, blocks=8)
NEWS = [event for event in NIGHT if isinstance(event, ContainerEvent)]
PEOPLE = [event for event in NIGHT if isinstance(event, AccessEvent)]
HALF = len(NEWS) // 2


def engine() -> CorrelationEngine:
    zones = {f"zone-B{n}": [f"B{n}"] for n in range(8)} | {"zone-B8": []}
    return CorrelationEngine(Correlation(), "c" * 64, zones)


def correlate(e: CorrelationEngine, news: list[ContainerEvent]) -> list[bytes]:
    for event in news:
        e.on_container_event(event)
    alerts: list[Alert] = []
    for person in PEOPLE:
        alerts += e.on_access(person) + e.revise()
    return [alert.to_bytes() for alert in alerts]


def test_an_engine_restored_from_a_checkpoint_raises_the_alerts_of_one_that_read_it_all() -> None:
    whole = engine()
    expected = correlate(whole, NEWS)
    assert any(b'"containers": [{' in alert for alert in expected)
    writer = engine()
    for event in NEWS[:HALF]:
        writer.on_container_event(event)
    parts = parts_of(writer, DeadLetters("correlator"), {"terminal": {0: HALF}})
    assert len(parts) > 1  # the night is cut into several parts
    assert all(len(part.to_bytes()) < 2 * PART_BYTES for part in parts)
    # As they travel: bytes, read back by the model.
    restored = engine()
    travelled = [CorrelatorCheckpoint.from_bytes(part.to_bytes()) for part in parts]
    restore(restored, DeadLetters("correlator"), travelled)
    assert len(restored.table) == len(writer.table)
    # The rest of the news, and some read again from before the checkpoint (the first
    # records after a restart can be ones it holds already).
    assert correlate(restored, NEWS[HALF - 50 :]) == expected


def learnt_back(e: CorrelationEngine, alerts: list[Alert]) -> None:
    for alert in alerts:
        e.on_published(alert)
    e.settle()


def test_a_restored_engine_rebuilds_the_recent_alerts_and_knows_the_settled_ones() -> None:
    """Half the night correlated and its alerts learnt back: the checkpoint then holds the
    recent alerts (every one: the night is shorter than the rebuild window), the settled ids
    and the dead letters sent; a restored engine rebuilds a zone's episodes from them as the
    one that wrote it does, and publishes the rest of the night alike."""
    writer = engine()
    for event in NEWS:
        writer.on_container_event(event)
    first_half, second_half = PEOPLE[: len(PEOPLE) // 2], PEOPLE[len(PEOPLE) // 2 :]
    alerts = [a for person in first_half for a in writer.on_access(person) + writer.revise()]
    learnt_back(writer, alerts)
    assert writer.settled and len(writer.recent) == len({a.alert_id for a in alerts})
    letters = DeadLetters("correlator", sent={"dead-letter:correlator:1"})
    parts = parts_of(writer, letters, {"terminal": {0: len(NEWS)}, "alerts": {0: len(alerts)}})
    restored, restored_letters = engine(), DeadLetters("correlator")
    restore(
        restored, restored_letters, [CorrelatorCheckpoint.from_bytes(p.to_bytes()) for p in parts]
    )
    assert restored_letters.sent == letters.sent
    assert restored.settled == {
        a: r for a, r in writer.settled.items() if a not in writer.recent.latest
    }
    assert restored.recent.latest == writer.recent.latest
    zones = {person.zone_id for person in PEOPLE}
    for e in (writer, restored):
        e.rebuild(zones, list(e.recent.latest.values()))
    rest = [
        [a.to_bytes() for p in second_half for a in e.on_access(p) + e.revise()]
        for e in (writer, restored)
    ]
    assert rest[0] and rest[0] == rest[1]


def test_every_part_is_valid_against_the_schema_file_and_a_changed_fact_is_not() -> None:
    e = engine()
    for event in NEWS[:2000]:
        e.on_container_event(event)
    validator = jsonschema.Draft202012Validator(schema_file(CorrelatorCheckpoint))
    part = json.loads(parts_of(e, DeadLetters("correlator"), {"terminal": {0: 2000}})[0].to_bytes())
    validator.validate(part)
    number = next(iter(part["containers"]))
    part["containers"][number][0][3] = "teleported"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(part)


def claims(parts: list[CorrelatorCheckpoint], first_offset: int = 0) -> list[Claim]:
    where = TopicPartition("correlator-checkpoints", 0)
    return [Claim.of(where, first_offset + n, p.to_bytes()) for n, p in enumerate(parts)]


def test_a_checkpoint_missing_a_part_or_mixed_with_another_is_never_complete() -> None:
    e = engine()
    for event in NEWS:
        e.on_container_event(event)
    letters = DeadLetters("correlator")
    first = claims(parts_of(e, letters, {"terminal": {0: 10}}))
    second = claims(parts_of(e, letters, {"terminal": {0: 20}}), first_offset=len(first))
    assert len(first) > 1
    assert complete_checkpoints(first[1:]) == []
    # The second's parts under the first's id: they claim other offsets.
    forged = [replace(claim, checkpoint_id=first[0].checkpoint_id) for claim in second]
    assert complete_checkpoints([first[0], *forged[1:]]) == []
    assert complete_checkpoints([*first, *second]) == [first, second]
    assert Claim.of(first[0].partition, 0, b"not json") is None
