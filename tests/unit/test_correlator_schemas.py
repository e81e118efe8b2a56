"""The alert, container-event and dead-letter JSON Schema files describe what the code sends."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from config.correlation import Correlation
from streams.alerts import Alert
from streams.correlator.engine import CorrelationEngine
from streams.dead_letter import DeadLetter
from streams.messages import Message
from streams.terminal.coarri import read_coarri
from streams.terminal.events import ContainerEvent
from streams.terminal.publish import dead_letter_for
from tests.fixtures.port_story import port_night
from tests.unit.test_terminal_adapters import COARRI

SCHEMAS = Path(__file__).resolve().parents[2] / "streams" / "schemas"


def schema_file(model: type[Message]) -> dict[str, object]:
    path = SCHEMAS / f"{model.SCHEMA_NAME}.v{model.SCHEMA_VERSION}.json"
    return json.loads(path.read_text())


@pytest.mark.parametrize("model", [Alert, ContainerEvent, DeadLetter])
def test_schema_file_matches_the_message_model(model: type[Message]) -> None:
    # A changed model needs a new schema file (and version when it breaks readers).
    generated = model.model_json_schema(mode="serialization")
    on_file = schema_file(model)
    jsonschema.Draft202012Validator.check_schema(on_file)
    assert {k: v for k, v in on_file.items() if k != "$schema"} == generated


def test_alerts_and_container_events_of_a_night_validate() -> None:
    night = port_night(3, containers=60, incidents=40, blocks=4)
    engine = CorrelationEngine(Correlation(), "c" * 64)
    alerts_validator = jsonschema.Draft202012Validator(schema_file(Alert))
    events_validator = jsonschema.Draft202012Validator(schema_file(ContainerEvent))
    alerts: list[Alert] = []
    for event in night:
        if isinstance(event, ContainerEvent):
            engine.on_container_event(event)
            events_validator.validate(json.loads(event.stamped().to_bytes()))
        else:
            alerts += engine.on_access(event) + engine.revise()
    assert alerts
    for alert in alerts:
        alerts_validator.validate(json.loads(alert.stamped().to_bytes()))


def test_dead_letters_validate() -> None:
    validator = jsonschema.Draft202012Validator(schema_file(DeadLetter))
    rejects = read_coarri(COARRI.replace("UNT+12", "UNT+2")) + read_coarri("garbage")
    for reject in rejects:
        validator.validate(json.loads(dead_letter_for(reject, "coarri").stamped().to_bytes()))


def test_an_alert_is_sent_as_the_sorted_json_of_all_its_fields() -> None:
    # Its containers' parts are encoded once and serve later alerts listing them too.
    night = port_night(5, containers=300, incidents=60, blocks=3)
    engine = CorrelationEngine(Correlation(), "c" * 64)
    alerts: list[Alert] = []
    for event in night:
        if isinstance(event, ContainerEvent):
            engine.on_container_event(event)
        else:
            alerts += engine.on_access(event) + engine.revise()
    listed = [id(container) for alert in alerts for container in alert.containers]
    assert len(listed) > len(set(listed))  # descriptions were shared between alerts
    for alert in (each.stamped() for each in alerts):
        plain = json.dumps(alert.model_dump(mode="json"), sort_keys=True).encode()
        assert alert.to_bytes() == plain
