"""DCSA Track & Trace equipment events (2.2, and the 3.0 customs codes) to container events.

Input is a JSON array, one JSON object, or one object per line, as files and subscription
callbacks deliver them. Each event is judged on its own: a bad one becomes a `Rejected` with
the reason and its raw text, and its neighbours still go through.

PLN and EST events are kept (classifier planned/estimated) but the correlator's container
table ignores them for state: a planned discharge does not put a container in the yard.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import partial

from config.terminal import YardArea
from streams.terminal.container_numbers import checked_container_number
from streams.terminal.dcsa_schema import ACTIVITIES, CLASSIFIERS, V3_ONLY, equipment_event_error
from streams.terminal.events import ContainerEvent, FeedError, FeedItem, FeedSource, Rejected, judge
from streams.terminal.json_items import JsonArray, JsonLimitError, loads_bounded, split_array
from streams.terminal.yard import yard_block_of


class DcsaError(FeedError):
    """An event that cannot become a container event; the message is the dead-letter reason."""


def read_dcsa(
    text: str, yard_areas: Sequence[YardArea] = (), facility_code: str = ""
) -> list[FeedItem]:
    """Every event in `text` as a ContainerEvent or a Rejected, in input order."""
    return [
        convert(raw_event, raw, location, yard_areas, facility_code)
        if not isinstance(raw_event, Rejected)
        else raw_event
        for raw_event, raw, location in split_events(text)
    ]


def split_events(text: str) -> list[tuple[object, str, str]]:
    """(parsed event or Rejected, raw text, location) for a JSON array, object or lines.

    An array is split into its items before any is parsed, so each is judged on its own: one
    that is too deep, too large or not JSON is rejected at its index and the others are read.
    """
    stripped = text.strip().lstrip("\ufeff")
    if not stripped:
        return [(Rejected("empty input: expected DCSA events as JSON", text), text, "")]
    if stripped.startswith("["):
        return _array_events(split_array(stripped))
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    try:
        return [(loads_bounded(stripped), stripped, "item 0")]
    except JsonLimitError:
        if len(lines) == 1:
            return [_parsed(stripped, "item 0")]  # the reject says which limit
    except ValueError:
        pass
    # Not one document within the limits: one event per line.
    return [_parsed(line, f"line {number}") for number, line in lines]


def _array_events(array: JsonArray) -> list[tuple[object, str, str]]:
    parsed = [_parsed(item.raw, f"item {item.index}", item.depth, True) for item in array.items]
    end = f"item {len(array.items)}"
    if not array.closed:
        reason = "the JSON array is not closed: the input was cut short after the items above"
        parsed.append((Rejected(reason, "", end), "", end))
    elif array.trailing:
        reason = "text after the end of the JSON array"
        parsed.append((Rejected(reason, array.trailing, end), array.trailing, end))
    return parsed


def _parsed(
    raw: str, location: str, depth: int | None = None, canonical: bool = False
) -> tuple[object, str, str]:
    try:
        event = loads_bounded(raw, depth)
    except JsonLimitError as error:
        return Rejected(f"not read: the event {error}", raw, location), raw, location
    except ValueError as error:
        return Rejected(f"not JSON: {error}", raw, location), raw, location
    # An array item keeps its canonical text, which names the event when it has no eventID.
    return event, _raw_json(event) if canonical else raw, location


def convert(
    event: object,
    raw: str,
    location: str,
    yard_areas: Sequence[YardArea] = (),
    facility_code: str = "",
) -> FeedItem:
    """One parsed DCSA event (2.2 plain or 3.0 metadata/payload) to a container event."""
    build = partial(_container_event, event, raw, yard_areas, facility_code)
    return judge(build, raw, location)


def _container_event(
    event: object, raw: str, yard_areas: Sequence[YardArea], facility_code: str
) -> ContainerEvent:
    if isinstance(event, Mapping) and "metadata" in event and "payload" in event:
        source = FeedSource.dcsa_v3
        metadata, payload = event["metadata"], event["payload"]
        if not isinstance(metadata, Mapping) or not isinstance(payload, Mapping):
            raise DcsaError("DCSA 3: metadata and payload must be JSON objects")
        if metadata.get("retractedEventID"):
            raise DcsaError("DCSA 3: retractions are not supported; the event was not applied")
        fields = {
            **payload,
            **{k: metadata[k] for k in ("eventID", "eventCreatedDateTime") if k in metadata},
        }
        _check_v3(fields, metadata)
    else:
        source = FeedSource.dcsa_v2
        schema_error = equipment_event_error(event)
        if schema_error is not None:
            raise DcsaError(schema_error)
        assert isinstance(event, Mapping)
        fields = dict(event)
    code = fields["equipmentEventTypeCode"]
    if source is FeedSource.dcsa_v2 and code in V3_ONLY:
        raise DcsaError(f"{code} is a DCSA 3 code; send it in the 3.0 metadata/payload form")
    try:
        container_number = checked_container_number(fields.get("equipmentReference"))
    except ValueError as error:
        raise DcsaError(f"equipmentReference: {error}") from None
    location = fields.get("eventLocation") or {}
    if not isinstance(location, Mapping):
        raise DcsaError("eventLocation must be a JSON object")
    event_facility = _optional_text(location, "facilityCode")
    if facility_code and not event_facility:
        # A site that names its terminal takes only events that say they happened there.
        raise DcsaError(
            f"no eventLocation.facilityCode: this site takes events of facility {facility_code}"
        )
    if facility_code and event_facility != facility_code:
        raise DcsaError(f"facility {event_facility} is not this terminal ({facility_code})")
    yard_position = _optional_text(location, "locationName")
    source_event_id = fields.get("eventID") or hashlib.sha256(raw.encode()).hexdigest()
    if not isinstance(source_event_id, str):
        raise DcsaError(f"eventID must be a string, got {source_event_id!r}")
    empty_code = fields.get("emptyIndicatorCode")
    return ContainerEvent.create(
        event_id=f"{source.value}:{source_event_id}",
        event_time=_timestamp(fields, "eventDateTime"),
        recorded_at=_timestamp(fields, "eventCreatedDateTime"),
        container_number=container_number,
        activity=ACTIVITIES[code],
        classifier=CLASSIFIERS[fields["eventClassifierCode"]],
        source=source,
        source_event_id=source_event_id,
        yard_position=yard_position,
        yard_block=yard_block_of(yard_position, yard_areas),
        iso_equipment_code=_optional_text(fields, "ISOEquipmentCode"),
        empty=None if empty_code is None else empty_code == "EMPTY",
        facility_code=event_facility,
        vessel_voyage=_voyage(fields.get("transportCall")),
    )


def _check_v3(fields: Mapping[str, object], metadata: Mapping[str, object]) -> None:
    # No 3.0 spec ships with the project, so the fields the adapter reads are checked by hand.
    if metadata.get("eventType", "EQUIPMENT") != "EQUIPMENT":
        raise DcsaError(f"DCSA 3: eventType {metadata.get('eventType')!r} is not EQUIPMENT")
    for name in ("eventCreatedDateTime", "eventDateTime", "eventClassifierCode"):
        if name not in fields:
            raise DcsaError(f"DCSA 3: {name} is required")
    code = fields.get("equipmentEventTypeCode")
    if code not in ACTIVITIES:
        raise DcsaError(f"DCSA 3: equipmentEventTypeCode {code!r} is not one of {list(ACTIVITIES)}")
    if fields["eventClassifierCode"] not in CLASSIFIERS:
        raise DcsaError(
            f"DCSA 3: eventClassifierCode {fields['eventClassifierCode']!r} is not ACT, PLN or EST"
        )
    if fields.get("emptyIndicatorCode", "LADEN") not in ("EMPTY", "LADEN"):
        raise DcsaError("DCSA 3: emptyIndicatorCode must be EMPTY or LADEN")


def _timestamp(fields: Mapping[str, object], name: str) -> datetime:
    text = fields.get(name)
    if not isinstance(text, str):
        raise DcsaError(f"{name} must be an ISO 8601 date-time string, got {text!r}")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise DcsaError(f"{name} {text!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise DcsaError(f"{name} {text!r} needs a UTC offset, e.g. 2024-01-15T09:30:00Z")
    return moment.astimezone(UTC)


def _optional_text(fields: Mapping[str, object], name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise DcsaError(f"{name} must be a string, got {value!r}")
    return value


def _voyage(transport_call: object) -> str | None:
    if not isinstance(transport_call, Mapping):
        return None
    for name in ("carrierVoyageNumber", "importVoyageNumber", "carrierImportVoyageNumber"):
        value = transport_call.get(name)
        if isinstance(value, str):
            return value
    return None


def _raw_json(event: object) -> str:
    return json.dumps(event, sort_keys=True, ensure_ascii=False)
