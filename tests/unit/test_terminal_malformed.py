"""Malformed feeds, generated: adapters never crash, and every reject says why and keeps the raw."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.terminal.coarri import read_coarri
from streams.terminal.dcsa import read_dcsa
from streams.terminal.events import ContainerEvent, Rejected
from tests.unit.test_terminal_adapters import COARRI, dcsa_discharge

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = list(dcsa_discharge())


@st.composite
def damaged_dcsa_event(draw: st.DrawFn) -> dict[str, object]:
    event = dcsa_discharge()
    for name in draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=4, unique=True)):
        if draw(st.booleans()):
            del event[name]
        else:
            event[name] = draw(json_values)
    return event


def check(items: list[ContainerEvent | Rejected]) -> None:
    for item in items:
        assert isinstance(item, ContainerEvent | Rejected)
        if isinstance(item, Rejected):
            assert item.reason.strip()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(damaged_dcsa_event(), min_size=1, max_size=5))
def test_damaged_dcsa_events_are_each_accepted_or_rejected_with_a_reason(events) -> None:
    items = read_dcsa(json.dumps(events))
    assert len(items) == len(events)
    check(items)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_as_dcsa_never_crashes(text: str) -> None:
    check(read_dcsa(text))


@settings(max_examples=300, deadline=None)
@given(st.lists(json_values, min_size=1, max_size=4))
def test_any_json_as_dcsa_rejects_item_by_item(values) -> None:
    items = read_dcsa(json.dumps(values))
    assert len(items) == len(values)
    assert all(isinstance(i, Rejected) for i in items)
    check(items)


@st.composite
def damaged_coarri(draw: st.DrawFn) -> str:
    segments = COARRI.split("'")
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(segments) - 1))
        action = draw(st.sampled_from(["drop", "garble", "duplicate", "truncate"]))
        if action == "drop":
            del segments[index]
        elif action == "garble":
            segments[index] = draw(st.text(alphabet="ABCDEQ0123456789+:?'. ", max_size=30))
        elif action == "duplicate":
            segments.insert(index, segments[index])
        else:
            segments[index] = segments[index][: draw(st.integers(0, len(segments[index])))]
        if not segments:
            break
    return "'".join(segments)


@settings(max_examples=300, deadline=None)
@given(damaged_coarri())
def test_damaged_coarri_never_crashes_and_every_reject_says_why(text: str) -> None:
    check(read_coarri(text))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_as_coarri_is_one_reject(text: str) -> None:
    items = read_coarri(text)
    check(items)
