"""What DCSA Track & Trace defines: equipment event codes, and the 2.2 schema from specs/dcsa."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from jsonschema import Draft4Validator
from jsonschema.exceptions import best_match
from referencing import Registry
from referencing.jsonschema import DRAFT4

from streams.terminal.events import Classifier, ContainerActivity

SPEC_PATH = Path(__file__).parent / "specs" / "dcsa" / "TNT_v2.2.0-resolved.yaml"
SPEC_URI = "urn:dcsa:tnt:2.2.0"
EQUIPMENT_EVENT_POINTER = "#/components/schemas/equipmentEvent"

# Equipment event type codes, as container activities; the customs ones came with DCSA 3.
ACTIVITIES = {
    "LOAD": ContainerActivity.loaded,
    "DISC": ContainerActivity.discharged,
    "GTIN": ContainerActivity.gated_in,
    "GTOT": ContainerActivity.gated_out,
    "STUF": ContainerActivity.stuffed,
    "STRP": ContainerActivity.stripped,
    "PICK": ContainerActivity.picked_up,
    "DROP": ContainerActivity.dropped_off,
    "INSP": ContainerActivity.seal_inspected,
    "RMVD": ContainerActivity.seal_removed,
    "RSEA": ContainerActivity.resealed,
    "CUSS": ContainerActivity.selected_for_scan,
    "CUSI": ContainerActivity.selected_for_inspection,
    "CUSR": ContainerActivity.released,
}
V3_ONLY = {"CUSS", "CUSI", "CUSR"}
CLASSIFIERS = {"ACT": Classifier.actual, "PLN": Classifier.planned, "EST": Classifier.estimated}


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
