"""Hostile and broken feed input: each bad part is one reject with its reason and location,
and the valid events around it still come out."""

from __future__ import annotations

import json

import pytest

from streams.terminal.coarri import read_coarri
from streams.terminal.dcsa import read_dcsa
from streams.terminal.events import ContainerEvent, Rejected
from streams.terminal.feed_text import NotText, feed_text
from streams.terminal.json_items import MAX_DEPTH, MAX_ITEM_CHARS, nesting_depth, split_array
from streams.terminal.publish import over_the_cap
from tests.unit.test_terminal_adapters import COARRI, dcsa_discharge

SECOND_MESSAGE = (
    "UNH+2+COARRI:D:00B:UN:ITG13'BGM+119+DOC8+9'"
    "EQD+CN+TCNU7200794+45G1:102:5++3+5'DTM+403:202403040140:203'UNT+5+2'"
)
TWO_MESSAGES = COARRI.replace("UNZ+1+REF42'", SECOND_MESSAGE + "UNZ+2+REF42'")


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def dcsa_array(*items: str) -> str:
    return "[" + ",".join(items) + "]"


def valid(event_id: str) -> str:
    return json.dumps(dcsa_discharge(eventID=event_id))


def kinds(items: list[ContainerEvent | Rejected]) -> list[str]:
    return [type(item).__name__ for item in items]


@pytest.mark.parametrize("levels", [990, 1_000, 100_000])
def test_a_deep_item_is_rejected_at_its_index_and_its_neighbours_are_read(levels: int) -> None:
    items = read_dcsa(dcsa_array(valid("a"), deep(levels), valid("b"), valid("c")))
    assert kinds(items) == ["ContainerEvent", "Rejected", "ContainerEvent", "ContainerEvent"]
    assert items[1].location == "item 1"
    assert f"{levels} levels deep" in items[1].reason and str(MAX_DEPTH) in items[1].reason


def test_an_item_within_the_depth_limit_is_judged_by_the_schema() -> None:
    nested = json.loads(deep(MAX_DEPTH - 2))
    [item] = read_dcsa(json.dumps([dcsa_discharge(seals=nested)]))
    assert isinstance(item, Rejected) and "DCSA 2.2 schema: seals" in item.reason


def test_an_oversized_item_is_rejected_and_its_neighbours_are_read() -> None:
    huge = json.dumps(dcsa_discharge(eventID="x" * MAX_ITEM_CHARS))
    items = read_dcsa(dcsa_array(valid("a"), huge, valid("b")))
    assert kinds(items) == ["ContainerEvent", "Rejected", "ContainerEvent"]
    assert items[1].location == "item 1" and "characters" in items[1].reason


def test_broken_items_are_rejected_each_at_its_index() -> None:
    broken = ["{not json}", '{"a": [1, 2}', '"brackets [ and commas , in a string"']
    items = read_dcsa(dcsa_array(valid("a"), *broken, valid("b")))
    assert kinds(items) == ["ContainerEvent", "Rejected", "Rejected", "Rejected", "ContainerEvent"]
    assert [item.location for item in items[1:4]] == ["item 1", "item 2", "item 3"]
    assert items[1].raw == "{not json}"


def test_an_array_cut_short_keeps_its_complete_items_and_says_it_was_cut() -> None:
    items = read_dcsa(dcsa_array(valid("a"), valid("b"))[:-1] + ', {"eventID": "c')
    assert kinds(items) == ["ContainerEvent", "ContainerEvent", "Rejected", "Rejected"]
    assert "Unterminated string" in items[2].reason
    assert "not closed" in items[3].reason and items[3].location == "item 3"


def test_text_after_the_array_is_rejected_and_the_array_is_read() -> None:
    items = read_dcsa(dcsa_array(valid("a")) + " garbage")
    assert kinds(items) == ["ContainerEvent", "Rejected"]
    assert "after the end" in items[1].reason and items[1].raw == "garbage"


def test_a_deep_line_is_rejected_and_the_other_lines_are_read() -> None:
    items = read_dcsa("\n".join([valid("a"), deep(5_000), valid("b")]))
    assert kinds(items) == ["ContainerEvent", "Rejected", "ContainerEvent"]
    assert items[1].location == "line 2" and "5000 levels deep" in items[1].reason


def test_a_single_deep_document_is_one_reject() -> None:
    [item] = read_dcsa('{"a": ' * 3_000 + "1" + "}" * 3_000)
    assert isinstance(item, Rejected) and "3000 levels deep" in item.reason


def test_the_array_split_skips_brackets_and_commas_inside_strings() -> None:
    array = split_array('[{"a": "x,]}"}, [[1]], "\\"[" ]')
    assert [item.raw.strip() for item in array.items] == ['{"a": "x,]}"}', "[[1]]", '"\\"["']
    assert [item.depth for item in array.items] == [1, 2, 0]
    assert array.closed and not array.trailing
    assert nesting_depth(deep(200_000)) == 200_000


def test_an_event_without_a_facility_is_rejected_where_the_site_names_its_own() -> None:
    without_location = dcsa_discharge()
    del without_location["eventLocation"]
    batch = [without_location, dcsa_discharge(eventLocation={"facilityCode": "ECTDE"})]
    items = read_dcsa(json.dumps(batch), facility_code="ECTDE")
    assert kinds(items) == ["Rejected", "ContainerEvent"]
    assert "no eventLocation.facilityCode" in items[0].reason and "ECTDE" in items[0].reason
    assert kinds(read_dcsa(json.dumps(batch))) == ["ContainerEvent", "ContainerEvent"]


def test_coarri_messages_are_read_each_on_its_own() -> None:
    items = read_coarri(TWO_MESSAGES)
    assert kinds(items) == ["ContainerEvent", "Rejected", "ContainerEvent", "ContainerEvent"]
    assert items[3].container_number == "TCNU7200794"


def test_coarri_cut_inside_its_second_message_keeps_the_first_messages_containers() -> None:
    cut = TWO_MESSAGES[: TWO_MESSAGES.index("TCNU7200794") + 6]
    items = read_coarri(cut)
    assert kinds(items) == ["ContainerEvent", "Rejected", "ContainerEvent", "Rejected"]
    assert [items[0].container_number, items[2].container_number] == ["CSQU3054383", "TOLU4734787"]
    cut_short = items[3]
    assert cut_short.location == "message 2 segment 3"
    assert "cut short inside segment 3" in cut_short.reason and "EQD+CN+TCNU72" in cut_short.reason
    assert cut_short.raw.startswith("UNH+2+COARRI")


def test_coarri_cut_inside_a_message_header_names_the_message_by_its_place() -> None:
    cut = TWO_MESSAGES[: TWO_MESSAGES.index("UNH+2") + 8]
    items = read_coarri(cut)
    assert items[-1].location == "message #2 segment 1" and "cut short" in items[-1].reason
    assert kinds(items[:3]) == ["ContainerEvent", "Rejected", "ContainerEvent"]


def test_coarri_message_without_its_unt_is_rejected_and_the_next_one_is_read() -> None:
    text = COARRI.replace("UNT+12+1'", "").replace("UNZ+1+REF42'", SECOND_MESSAGE + "UNZ+2+REF42'")
    [first, second] = read_coarri(text)
    assert isinstance(first, Rejected) and first.location == "message 1 segment 11"
    assert "the next UNH comes before this message's UNT" in first.reason
    assert isinstance(second, ContainerEvent)


def test_coarri_with_a_segment_pydifact_cannot_read_rejects_only_that_message() -> None:
    broken = SECOND_MESSAGE.replace("BGM+119+DOC8+9'", "BGM+119+DOC8+9'+++'")
    text = COARRI.replace("UNZ+1+REF42'", broken + "UNZ+2+REF42'")
    items = read_coarri(text)
    assert kinds(items[:3]) == ["ContainerEvent", "Rejected", "ContainerEvent"]
    assert items[3].location == "message 2 segment 3" and "unreadable" in items[3].reason


def with_separators(text: str, component: str, data: str, release: str, terminator: str) -> str:
    body = text.removeprefix("UNA:+.? '")
    swapped = body.translate(str.maketrans({":": "\0", "+": "\1", "?": "\2", "'": "\3"}))
    body = swapped.translate(
        str.maketrans({"\0": component, "\1": data, "\2": release, "\3": terminator})
    )
    return f"UNA{component}{data}.{release} {terminator}{body}"


@pytest.mark.parametrize("prefix", ["", "\n", "\ufeff"])
@pytest.mark.parametrize("separators", [("|", "*", "!", "~"), (":", "+", "?", "\n")])
def test_coarri_is_read_with_the_separators_its_una_declares(prefix: str, separators) -> None:
    items = read_coarri(prefix + with_separators(TWO_MESSAGES, *separators))
    assert kinds(items) == ["ContainerEvent", "Rejected", "ContainerEvent", "ContainerEvent"]
    assert "CSQU3054384" in items[1].reason


def test_coarri_una_with_clashing_separators_is_refused_by_name() -> None:
    [item] = read_coarri(with_separators(COARRI, ":", "+", "?", "+"))
    assert isinstance(item, Rejected) and item.location == "UNA"
    assert "'+' as both the data element separator and the segment terminator" in item.reason


def test_coarri_una_with_a_letter_as_separator_is_refused_by_name() -> None:
    [item] = read_coarri("UNA:+.? X" + COARRI[9:])
    assert "'X' as the segment terminator: a letter or digit" in item.reason


def test_coarri_with_an_impossible_preparation_date_names_the_unb() -> None:
    [item] = read_coarri(COARRI.replace("240304:0215", "240399:0215"))
    assert item.location == "UNB" and "240399" in item.reason


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'[{"a": 1}]\0', "NUL byte at offset 10"),
        (b"\x89PNG\r\n\x1a\n\0", "byte 0x89 at offset 0 is not UTF-8"),
        (b"[]\0\xff", "NUL byte at offset 2"),
        ("[]".encode("utf-16"), "UTF-16 byte order mark"),
        (b"\xfe\xff\x00[\x00]", "UTF-16 byte order mark"),
    ],
)
def test_input_that_is_not_text_is_refused_with_where(data: bytes, reason: str) -> None:
    with pytest.raises(NotText, match=reason):
        feed_text(data)


def test_utf8_text_with_a_byte_order_mark_is_read() -> None:
    assert feed_text("\ufeff[]".encode()) == "[]"


def test_the_summary_past_the_cap_counts_the_rest_and_names_the_first() -> None:
    first = [Rejected(f"bad {n}", "{}", f"item {n}") for n in range(100, 110)]
    summary = over_the_cap(first, 250, limit=100)
    assert summary.reason.startswith("250 more items of this input were rejected")
    assert "past the first 100 dead letters" in summary.reason
    assert "item 100, item 101" in summary.reason and summary.reason.endswith(", ...")
    assert summary.location == "item 100" and "item 109: bad 109" in summary.raw
