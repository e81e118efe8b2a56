"""The DCSA Track & Trace 2.2 equipment-event schema, loaded from the spec shipped in specs/dcsa."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from jsonschema import Draft4Validator
from jsonschema.exceptions import best_match
from referencing import Registry
from referencing.jsonschema import DRAFT4

SPEC_PATH = Path(__file__).parent / "specs" / "dcsa" / "TNT_v2.2.0-resolved.yaml"
SPEC_URI = "urn:dcsa:tnt:2.2.0"
EQUIPMENT_EVENT_POINTER = "#/components/schemas/equipmentEvent"


@cache
def equipment_event_validator() -> Draft4Validator:
    """A validator for one v2.2 equipment event; $refs resolve inside the whole OpenAPI document.

    OpenAPI 3.0 schemas are a JSON Schema draft 4 dialect; `nullable` and `example` are
    annotations a draft 4 validator ignores, which is what the spec means by them.
    """
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    registry = Registry().with_resource(SPEC_URI, DRAFT4.create_resource(spec))
    return Draft4Validator({"$ref": SPEC_URI + EQUIPMENT_EVENT_POINTER}, registry=registry)


def equipment_event_error(event: object) -> str | None:
    """Why `event` is not a valid DCSA 2.2 equipment event, or None when it is."""
    error = best_match(equipment_event_validator().iter_errors(event))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "(event)"
    return f"DCSA 2.2 schema: {where}: {error.message}"
