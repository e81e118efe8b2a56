"""A checkpoint of the container table stands in for the terminal records before it: an engine
restored from one and fed the rest says what an engine fed everything says."""

from __future__ import annotations

import json

import jsonschema
import pytest

from config.correlation import Correlation
from streams.access import AccessEvent
from streams.alerts import Alert
from streams.correlator.checkpoint import _complete_checkpoints, parts_of, restore
from streams.correlator.engine import CorrelationEngine
from streams.table_checkpoint import FACTS_PER_PART, TableCheckpoint
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
    parts = parts_of(writer.table, {0: HALF})
    assert len(parts) > 1  # the night is cut into several parts
    assert all(sum(map(len, p.containers.values())) <= FACTS_PER_PART + 10 for p in parts)
    # As they travel: bytes, read back by the model.
    restored = engine()
    restore(restored.table, [TableCheckpoint.from_bytes(part.to_bytes()) for part in parts])
    assert len(restored.table) == len(writer.table)
    # The rest of the news, and some read again from before the checkpoint (the first
    # records after a restart can be ones it holds already).
    assert correlate(restored, NEWS[HALF - 50 :]) == expected


def test_every_part_is_valid_against_the_schema_file_and_a_changed_fact_is_not() -> None:
    e = engine()
    for event in NEWS[:2000]:
        e.on_container_event(event)
    validator = jsonschema.Draft202012Validator(schema_file(TableCheckpoint))
    part = json.loads(parts_of(e.table, {0: 2000})[0].to_bytes())
    validator.validate(part)
    number = next(iter(part["containers"]))
    part["containers"][number][0][3] = "teleported"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(part)


def test_a_checkpoint_missing_a_part_or_mixed_with_another_is_never_complete() -> None:
    e = engine()
    for event in NEWS:
        e.on_container_event(event)
    first, second = parts_of(e.table, {0: 10}), parts_of(e.table, {0: 20})
    assert _complete_checkpoints(iter(first[1:])) == []
    # The second's parts under the first's id: they claim other offsets.
    forged = [part.model_copy(update={"checkpoint_id": first[0].checkpoint_id}) for part in second]
    assert _complete_checkpoints(iter([first[0], *forged[1:]])) == []
    assert _complete_checkpoints(iter([*first, *second])) == [first, second]
