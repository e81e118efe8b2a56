"""Terminal feed adapters: DCSA 2.2/3 and COARRI to container events, rejects with reasons."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from config.terminal import YardArea
from streams.terminal.coarri import read_coarri
from streams.terminal.dcsa import read_dcsa
from streams.terminal.events import Classifier, ContainerActivity, ContainerEvent, Rejected
from streams.terminal.yard import yard_block_of

YARD = [YardArea(pattern="Q3*", yard_block="Q3"), YardArea(pattern="R1-*", yard_block="R1")]


def dcsa_discharge(**changes: object) -> dict[str, object]:
    event: dict[str, object] = {
        "eventID": "3cecb101-7a1a-43a4-9d62-e88a131651e2",
        "eventCreatedDateTime": "2024-03-04T01:10:00Z",
        "eventType": "EQUIPMENT",
        "eventClassifierCode": "ACT",
        "eventDateTime": "2024-03-04T01:05:00+01:00",
        "equipmentEventTypeCode": "DISC",
        "equipmentReference": "CSQU3054383",
        "ISOEquipmentCode": "45G1",
        "emptyIndicatorCode": "LADEN",
        "eventLocation": {"locationName": "Q3-12-04", "UNLocationCode": "NLRTM"},
    }
    event.update(changes)
    return event


def dcsa3(code: str, event_id: str = "e-3") -> dict[str, object]:
    return {
        "metadata": {
            "eventID": event_id,
            "eventCreatedDateTime": "2024-03-04T02:00:00Z",
            "eventType": "EQUIPMENT",
        },
        "payload": {
            "eventClassifierCode": "ACT",
            "eventDateTime": "2024-03-04T01:59:00Z",
            "equipmentEventTypeCode": code,
            "equipmentReference": "TCNU7200794",
            "emptyIndicatorCode": "LADEN",
        },
    }


COARRI = (
    "UNA:+.? 'UNB+UNOA:2+ECT+QUAYWATCH+240304:0215+REF42'"
    "UNH+1+COARRI:D:00B:UN:ITG13'BGM+119+DOC7+9'TDT+20+V123E+1++MSC:172:20'"
    "EQD+CN+CSQU3054383+45G1:102:5++3+5'DTM+403:202403040130:203'LOC+147+Q3-0120304::5'"
    "EQD+CN+CSQU3054384+45G1:102:5++3+5'DTM+403:202403040131:203'"
    "EQD+CN+TOLU4734787+22G1:102:5++3+4'DTM+403:202403040132:203'LOC+147+0220406::5'"
    "UNT+12+1'UNZ+1+REF42'"
)


def test_dcsa_discharge_becomes_a_container_event_in_its_yard_block() -> None:
    [event] = read_dcsa(json.dumps([dcsa_discharge()]), YARD)
    assert isinstance(event, ContainerEvent)
    assert event.container_number == "CSQU3054383"
    assert event.activity is ContainerActivity.discharged
    assert event.event_time == datetime(2024, 3, 4, 0, 5, tzinfo=UTC)
    assert event.recorded_at == datetime(2024, 3, 4, 1, 10, tzinfo=UTC)
    assert (event.yard_position, event.yard_block) == ("Q3-12-04", "Q3")
    assert event.empty is False


def test_every_dcsa_22_equipment_code_is_understood() -> None:
    codes = ["LOAD", "DISC", "GTIN", "GTOT", "STUF", "STRP", "PICK", "DROP", "INSP", "RMVD", "RSEA"]
    items = read_dcsa(json.dumps([dcsa_discharge(equipmentEventTypeCode=c) for c in codes]))
    assert all(isinstance(item, ContainerEvent) for item in items)


def test_dcsa_3_customs_codes_arrive_in_metadata_and_payload() -> None:
    items = read_dcsa("\n".join(json.dumps(dcsa3(c, c)) for c in ("CUSS", "CUSI", "CUSR")))
    assert [i.activity for i in items] == [
        ContainerActivity.selected_for_scan,
        ContainerActivity.selected_for_inspection,
        ContainerActivity.released,
    ]


def test_customs_code_in_the_22_form_is_rejected_with_the_way_to_send_it() -> None:
    [item] = read_dcsa(json.dumps(dcsa_discharge(equipmentEventTypeCode="CUSI")))
    assert isinstance(item, Rejected)
    assert "CUSI" in item.reason


def test_planned_and_estimated_events_are_kept_for_information() -> None:
    items = read_dcsa(json.dumps([dcsa_discharge(eventClassifierCode=c) for c in ("PLN", "EST")]))
    assert [i.classifier for i in items] == [Classifier.planned, Classifier.estimated]


def test_a_bad_event_is_rejected_and_its_neighbours_go_through() -> None:
    batch = [
        dcsa_discharge(eventID="a"),
        dcsa_discharge(eventID="b", equipmentReference="CSQU3054384"),
        dcsa_discharge(eventID="c", eventDateTime="2024-03-04T01:05:00"),
        {"eventType": "EQUIPMENT"},
        dcsa_discharge(eventID="e"),
    ]
    items = read_dcsa(json.dumps(batch))
    assert [type(i).__name__ for i in items] == [
        "ContainerEvent",
        "Rejected",
        "Rejected",
        "Rejected",
        "ContainerEvent",
    ]
    assert "check digit" in items[1].reason and "should end in 3" in items[1].reason
    assert "UTC offset" in items[2].reason
    assert "required property" in items[3].reason
    assert items[3].location == "item 3"
    assert json.loads(items[1].raw)["eventID"] == "b"


def test_one_event_per_line_rejects_only_the_broken_line() -> None:
    lines = [json.dumps(dcsa_discharge()), "{not json", json.dumps(dcsa3("CUSI"))]
    items = read_dcsa("\n".join(lines))
    assert [type(i).__name__ for i in items] == ["ContainerEvent", "Rejected", "ContainerEvent"]
    assert items[1].location == "line 2" and items[1].raw == "{not json"


def test_events_of_another_facility_are_rejected_when_the_site_names_its_own() -> None:
    event = dcsa_discharge(eventLocation={"locationName": "Q3-1", "facilityCode": "APMII"})
    [item] = read_dcsa(json.dumps(event), YARD, facility_code="ECTDE")
    assert isinstance(item, Rejected) and "APMII" in item.reason


def test_coarri_discharge_report_gives_one_event_per_valid_container() -> None:
    items = read_coarri(COARRI, YARD, timezone="Europe/Amsterdam")
    first, bad, third = items
    assert isinstance(first, ContainerEvent) and isinstance(third, ContainerEvent)
    assert first.event_time == datetime(2024, 3, 4, 0, 30, tzinfo=UTC)  # 01:30 in Amsterdam
    assert first.recorded_at == datetime(2024, 3, 4, 1, 15, tzinfo=UTC)
    assert (first.yard_position, first.yard_block) == ("Q3-0120304", "Q3")
    assert first.vessel_voyage == "V123E"
    assert third.empty is True and third.iso_equipment_code == "22G1"
    assert isinstance(bad, Rejected) and "CSQU3054384" in bad.reason
    assert bad.raw.startswith("EQD+CN+CSQU3054384")


def test_coarri_with_a_wrong_segment_count_is_rejected_whole() -> None:
    [item] = read_coarri(COARRI.replace("UNT+12", "UNT+13"))
    assert isinstance(item, Rejected) and "UNT" in item.reason


def test_coarri_loading_report_is_not_read_as_a_discharge() -> None:
    [item] = read_coarri(COARRI.replace("BGM+119", "BGM+122"))
    assert isinstance(item, Rejected) and "122" in item.reason


def test_coarri_without_actual_discharge_time_is_rejected() -> None:
    text = COARRI.replace("DTM+403:202403040130:203", "DTM+178:202403040130:203")
    assert "DTM+403" in read_coarri(text)[0].reason


def test_yard_position_maps_to_the_first_matching_block() -> None:
    assert yard_block_of("q3-01-02", YARD) == "Q3"
    assert yard_block_of("R1-9", YARD) == "R1"
    assert yard_block_of("X9", YARD) is None
    assert yard_block_of(None, YARD) is None
