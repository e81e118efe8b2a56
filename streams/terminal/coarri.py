"""UN/EDIFACT COARRI discharge reports (SMDG D00B), read with pydifact, to container events.

Only discharge reports (BGM 119) are taken: they carry what the correlator needs, when a
container came off the vessel. Per container: EQD+CN (number, size-type), DTM+403 (actual
discharge time, format 203 CCYYMMDDHHMM) and LOC+147 (stowage cell, kept as the position).
EDIFACT times carry no offset; they are read in the site's time zone.

An interchange without a readable UNB is one reject. Each UNH..UNT message is read on its own:
one cut short or with a segment pydifact cannot read is one reject naming the message and the
segment, and the other messages still go through; a bad container group is one reject, and the
other containers of its message still go through.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from zoneinfo import ZoneInfo

from pydifact.control import Characters
from pydifact.segmentcollection import Interchange
from pydifact.segments import Segment
from pydifact.serializer import Serializer

from config.terminal import YardArea
from streams.terminal.container_numbers import checked_container_number
from streams.terminal.edifact import (
    EdifactError,
    RawMessage,
    parse_segments,
    read_header,
    split_interchange,
)
from streams.terminal.events import (
    Classifier,
    ContainerActivity,
    ContainerEvent,
    FeedError,
    FeedItem,
    FeedSource,
    Rejected,
    judge,
)
from streams.terminal.yard import yard_block_of

DISCHARGE_REPORT = "119"
ACTUAL_DISCHARGE = "403"
STOWAGE_CELL = "147"
CCYYMMDDHHMM = "203"


class CoarriError(FeedError):
    """Something in a COARRI that cannot become a container event; the text is the reason."""


@dataclass
class ContainerGroup:
    """The segments from one EQD up to the next EQD (or UNT)."""

    segments: list[Segment] = field(default_factory=list)


@dataclass
class CoarriMessage:
    """One UNH ... UNT message as the interchange carried it, trailer included."""

    reference: str
    identifier: list[object]
    segments: list[Segment]
    trailer: Segment


@dataclass(frozen=True)
class Reading:
    """What every container of one interchange is read with: its header and the site's settings."""

    reference: str  # sender:control reference, where each container's source event id starts
    recorded_at: datetime  # UNB preparation time, in UTC
    zone: ZoneInfo  # the site's time zone: EDIFACT times carry no offset
    yard_areas: Sequence[YardArea]


def read_coarri(
    text: str, yard_areas: Sequence[YardArea] = (), timezone: str = "UTC"
) -> list[FeedItem]:
    """Every container of every discharge report in `text`, as ContainerEvent or Rejected."""
    zone = ZoneInfo(timezone)
    try:
        interchange = split_interchange(text)
        header = read_header(interchange)
        reading = Reading(
            reference=f"{header.sender}:{header.control_reference}",
            recorded_at=_interchange_time(header, zone),
            zone=zone,
            yard_areas=yard_areas,
        )
    except EdifactError as error:
        return [Rejected(f"EDIFACT unreadable: {error}", text, error.location)]
    if not interchange.messages:
        return [Rejected("EDIFACT interchange holds no UNH message", text)]
    items: list[FeedItem] = []
    for raw_message in interchange.messages:
        message = _message(raw_message, interchange.characters)
        if isinstance(message, Rejected):
            items.append(message)
            continue
        location = f"message {message.reference}"
        try:
            groups = _discharge_groups(message)
        except CoarriError as error:
            raw = "".join(raw_message.segments)
            items.append(Rejected(f"COARRI {location}: {error}", raw, location))
            continue
        for number, group in enumerate(groups, start=1):
            where = f"{location} container {number}"
            build = partial(_container_event, group, message, reading)
            raw = _serialize(group.segments, interchange.characters)
            items.append(judge(build, raw, where, f"COARRI {where}: "))
    return items


def _message(raw: RawMessage, characters: Characters) -> CoarriMessage | Rejected:
    """One message parsed on its own, or a Rejected naming it and the segment where it broke."""
    name = f"message #{raw.number}"  # until its UNH has given its reference number
    try:
        [unh] = parse_segments(raw.segments[:1], characters)
        name = f"message {_text(unh.elements, 0) or '#' + str(raw.number)}"
        if raw.cut_short:
            raise EdifactError(raw.cut_short, f"segment {len(raw.segments)}")
        segments = [unh, *parse_segments(raw.segments[1:], characters, first=2)]
    except EdifactError as error:
        # That a message is a stump says more than what pydifact makes of the stump.
        failure = (
            EdifactError(raw.cut_short, f"segment {len(raw.segments)}") if raw.cut_short else error
        )
        location = f"{name} {failure.location}"
        return Rejected(f"COARRI {location}: {failure}", "".join(raw.segments), location)
    return CoarriMessage(
        reference=_text(unh.elements, 0),
        identifier=_component(unh.elements, 1),
        segments=segments[:-1],
        trailer=segments[-1],
    )


def _interchange_time(interchange: Interchange, zone: ZoneInfo) -> datetime:
    moment = interchange.timestamp
    if not isinstance(moment, datetime):
        raise EdifactError("UNB has no preparation date and time", "UNB")
    return moment.replace(tzinfo=zone).astimezone(UTC)


def _discharge_groups(message: CoarriMessage) -> list[ContainerGroup]:
    if _text(message.identifier, 0) != "COARRI":
        raise CoarriError(f"UNH message type {_text(message.identifier, 0)!r}, expected COARRI")
    # UNT counts UNH to UNT inclusive; a mismatch means segments were lost or added in transit.
    declared = _text(message.trailer.elements, 0)
    actual = len(message.segments) + 1
    if not re.fullmatch(r"[0-9]{1,6}", declared) or int(declared) != actual:
        raise CoarriError(f"UNT says {declared!r} segments, the message has {actual}")
    bgm = next((s for s in message.segments if s.tag == "BGM"), None)
    if bgm is None:
        raise CoarriError("no BGM segment")
    if _text(bgm.elements, 0) != DISCHARGE_REPORT:
        raise CoarriError(
            f"BGM document code {_text(bgm.elements, 0)!r}: only 119 (discharge report) is read"
        )
    groups: list[ContainerGroup] = []
    for segment in message.segments[1:]:
        if segment.tag == "EQD":
            groups.append(ContainerGroup([segment]))
        elif groups:
            groups[-1].segments.append(segment)
    if not groups:
        raise CoarriError("no EQD container segment")
    return groups


def _serialize(segments: list[Segment], characters: Characters) -> str:
    try:
        return Serializer(characters).serialize(segments, with_una_header=False)
    except Exception:  # the raw text is evidence only; a segment pydifact cannot write is shown
        return "".join(repr(segment) for segment in segments)


def _container_event(
    group: ContainerGroup, message: CoarriMessage, reading: Reading
) -> ContainerEvent:
    eqd = group.segments[0]
    if _text(eqd.elements, 0) != "CN":
        raise CoarriError(f"EQD qualifier {_text(eqd.elements, 0)!r}: only CN containers are read")
    try:
        container_number = checked_container_number(_text(eqd.elements, 1))
    except ValueError as error:
        raise CoarriError(f"EQD: {error}") from None
    discharged_at = None
    position = None
    voyage = next(
        (
            _text(s.elements, 1)
            for s in message.segments
            if s.tag == "TDT" and _text(s.elements, 0) == "20"
        ),
        None,
    )
    for segment in group.segments[1:]:
        if segment.tag == "DTM" and _text(_component(segment.elements, 0), 0) == ACTUAL_DISCHARGE:
            discharged_at = _dtm_203(_component(segment.elements, 0), reading.zone)
        elif segment.tag == "LOC" and _text(segment.elements, 0) == STOWAGE_CELL:
            position = _text(_component(segment.elements, 1), 0) or None
    if discharged_at is None:
        raise CoarriError(f"{container_number}: no DTM+403 actual discharge time")
    full_empty = _text(eqd.elements, 5)
    size_type = _text(_component(eqd.elements, 2), 0) or None
    source_event_id = f"{reading.reference}:{message.reference}:{container_number}"
    return ContainerEvent.create(
        event_id="coarri:" + hashlib.sha256(source_event_id.encode()).hexdigest()[:32],
        event_time=discharged_at,
        recorded_at=reading.recorded_at,
        container_number=container_number,
        activity=ContainerActivity.discharged,
        classifier=Classifier.actual,
        source=FeedSource.coarri,
        source_event_id=source_event_id,
        yard_position=position,
        yard_block=yard_block_of(position, reading.yard_areas),
        iso_equipment_code=size_type,
        empty={"4": True, "5": False}.get(full_empty),
        vessel_voyage=voyage or None,
    )


def _dtm_203(component: list[object], zone: ZoneInfo) -> datetime:
    value, form = _text(component, 1), _text(component, 2)
    if form != CCYYMMDDHHMM:
        raise CoarriError(f"DTM+403 format {form!r}: expected 203 (CCYYMMDDHHMM)")
    if not re.fullmatch(r"[0-9]{12}", value):
        raise CoarriError(f"DTM+403 value {value!r} is not CCYYMMDDHHMM")
    try:
        local = datetime.strptime(value, "%Y%m%d%H%M")
    except ValueError:
        raise CoarriError(f"DTM+403 value {value!r} is not a real date and time") from None
    return local.replace(tzinfo=zone).astimezone(UTC)


def _component(elements: list[object], index: int) -> list[object]:
    """A composite element as a list, whether pydifact gave a list or a single string."""
    if index >= len(elements):
        return []
    value = elements[index]
    return value if isinstance(value, list) else [value]


def _text(elements: list[object], index: int) -> str:
    if index >= len(elements):
        return ""
    value = elements[index]
    if isinstance(value, list):
        value = value[0] if value else ""
    return value if isinstance(value, str) else ""
