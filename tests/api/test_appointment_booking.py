"""Medical appointment booking (Đặt khám), issue 14 point 9, walked over HTTP as the citizen app
does: a clinic publishes a Schedule and Slots, the citizen searches free slots, books one with
Appointment/$book (booked + Slot busy, in-app notice + SMS), cancels it with
Appointment/[id]/$cancel (cancelled + Slot free, notice + SMS); parallel $book calls on one Slot
give exactly one booking. FHIR R4 appointment.html, slot.html, schedule.html, operations.html.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask

from fhir_server.notify.gateways import FileSink
from tests.api.campaign_world import FHIR_JSON, Campaign, at, expressions, parameters


@pytest.fixture(scope="module")
def world(make_app: Callable[..., Flask]) -> Campaign:
    return Campaign(make_app(auth_required=True))


def texts(world: Campaign, e164: str) -> list[str]:
    """Texts sent to a phone other than sign-up codes."""
    path = world.app.extensions["fhir"].settings.sms_gateway.split(":", 1)[1]
    return [m["text"] for m in FileSink(path).messages(e164) if "tiêm" in m["text"]
            or "khám" in m["text"] or "hẹn" in m["text"]]


def _notices(world: Campaign, who: str, patient: str) -> list[dict[str, object]]:
    response = world.send(who, "GET", f"/Communication?recipient=Patient/{patient}"
                                      "&category=notification")
    assert response.status_code == 200, response.get_json()
    return [e["resource"] for e in response.get_json().get("entry", [])]


def test_search_book_cancel(world: Campaign) -> None:
    schedule = world.schedule(f"Practitioner/{world.doctor}")
    first = world.slot(schedule, at(3, 8), at(3, 8, 30))
    world.slot(schedule, at(3, 8, 30), at(3, 9))
    found = world.send("A", "GET", f"/Slot?schedule=Schedule/{schedule}&status=free"
                                   f"&start=ge{at(3, 0)}")
    assert found.status_code == 200
    assert len(found.get_json()["entry"]) == 2
    booked = world.send("A", "POST", "/Appointment/$book", parameters(
        patient={"reference": f"Patient/{world.a['patient']}"},
        slot={"reference": f"Slot/{first}"}, comment="Đau đầu kéo dài"))
    assert booked.status_code == 201, booked.get_json()
    appointment = booked.get_json()
    assert appointment["status"] == "booked"
    assert appointment["start"] == at(3, 8) and appointment["end"] == at(3, 8, 30)
    assert booked.headers["Location"].split("/")[-3] == appointment["id"]
    assert world.read("A", f"Slot/{first}")["status"] == "busy"
    still_free = world.send("A", "GET", f"/Slot?schedule=Schedule/{schedule}&status=free")
    assert [e["resource"]["id"] for e in still_free.get_json()["entry"]] != [first]
    assert len(still_free.get_json()["entry"]) == 1
    notices = _notices(world, "A", world.a["patient"])
    assert [n["status"] for n in notices] == ["in-progress"]
    assert notices[0]["about"] == [{"reference": f"Appointment/{appointment['id']}"}]
    assert any("đã được xác nhận" in t for t in texts(world, world.a["e164"]))

    cancelled = world.send("A", "POST", f"/Appointment/{appointment['id']}/$cancel",
                           parameters(reason="Bận việc gia đình"))
    assert cancelled.status_code == 200, cancelled.get_json()
    assert cancelled.get_json()["status"] == "cancelled"
    assert cancelled.get_json()["cancelationReason"] == {"text": "Bận việc gia đình"}
    assert world.read("A", f"Slot/{first}")["status"] == "free"
    again = world.send("A", "POST", f"/Appointment/{appointment['id']}/$cancel")
    assert again.status_code == 200  # a retry: nothing changes, nothing is sent twice
    assert len(_notices(world, "A", world.a["patient"])) == 2
    assert len([t for t in texts(world, world.a["e164"]) if "hủy" in t]) == 1


def test_booking_for_family_member_texts_the_holder(world: Campaign) -> None:
    schedule = world.schedule(f"Location/{world.site}")
    slot = world.slot(schedule, at(4, 14), at(4, 14, 30))
    booked = world.send("A", "POST", "/Appointment/$book", parameters(
        patient={"reference": f"Patient/{world.family}"}, slot={"reference": f"Slot/{slot}"}))
    assert booked.status_code == 201, booked.get_json()
    assert {"actor": {"reference": f"Location/{world.site}"}, "status": "accepted"} in \
        booked.get_json()["participant"]
    assert len(_notices(world, "A", world.family)) == 1
    assert any("Nguyễn Thị Bé" in t and "Trạm y tế" in t for t in texts(world, world.a["e164"]))


def test_bad_bookings(world: Campaign) -> None:
    schedule = world.schedule(f"Practitioner/{world.doctor}")
    past = world.slot(schedule, at(-2, 8), at(-2, 8, 30))
    busy = world.slot(schedule, at(5, 8), at(5, 8, 30), status="busy")
    free = world.slot(schedule, at(5, 9), at(5, 9, 30))
    cases = [({"slot": {"reference": f"Slot/{past}"}}, 422, "Appointment.slot[0]"),
             ({"slot": {"reference": f"Slot/{busy}"}}, 409, "Appointment.slot[0]"),
             ({"slot": {"reference": "Slot/nope"}}, 422, "slot"),
             ({"slot": "Patient/x"}, 400, "slot"),
             ({}, 400, "slot")]
    for inputs, status, where in cases:
        response = world.send("A", "POST", "/Appointment/$book", parameters(
            patient={"reference": f"Patient/{world.a['patient']}"}, **inputs))
        assert response.status_code == status, (inputs, response.get_json())
        assert where in expressions(response), response.get_json()
    other = world.send("B", "POST", "/Appointment/$book", parameters(
        patient={"reference": f"Patient/{world.a['patient']}"}, slot={"reference":
                                                                      f"Slot/{free}"}))
    assert other.status_code in (403, 404), other.get_json()
    assert world.read("A", f"Slot/{free}")["status"] == "free"
    assert _notices(world, "B", world.b["patient"]) == []
    foreign = world.send("A", "POST", "/Appointment/$book", parameters(
        slot={"reference": f"Slot/{free}"}))  # no patient: the caller's own
    assert foreign.status_code == 201


def test_parallel_book_exactly_one_wins(world: Campaign) -> None:
    schedule = world.schedule(f"Practitioner/{world.doctor}")
    slot = world.slot(schedule, at(7, 8), at(7, 8, 30))
    body = parameters(patient={"reference": f"Patient/{world.b['patient']}"},
                      slot={"reference": f"Slot/{slot}"})

    def book(_n: int) -> int:
        return world.app.test_client().post("/Appointment/$book", json=body, headers={
            "Content-Type": FHIR_JSON, **world.tokens["B"]}).status_code

    with ThreadPoolExecutor(10) as pool:
        statuses = list(pool.map(book, range(10)))
    assert sorted(statuses) == [201] + [409] * 9, statuses
    found = world.send("B", "GET", f"/Appointment?slot=Slot/{slot}&_summary=count")
    assert found.get_json()["total"] == 1
    assert len([n for n in _notices(world, "B", world.b["patient"])]) == 1


def test_junk_inputs_never_500(world: Campaign) -> None:
    junk = [None, [], "text", {"resourceType": "Patient"}, {"resourceType": "Parameters"},
            {"resourceType": "Parameters", "parameter": [{"name": "slot", "valueInteger": 3}]},
            {"resourceType": "Parameters", "parameter": [{"name": "slot"}]},
            {"resourceType": "Parameters", "parameter": [
                {"name": "slot", "valueReference": {"reference": "Slot/"}}]},
            {"resourceType": "Parameters", "parameter": [
                {"name": "preferredDate", "valueDate": 5},
                {"name": "site", "valueReference": {"reference": 7}},
                {"name": "priorityGroup", "valueCoding": {"code": ["1"]}},
                {"name": "patient", "valueString": "Patient/../x"},
                {"name": "reason", "valueString": "x" * 5000}]}]
    urls = ["/Appointment/$book", "/Appointment/nope/$book", "/Appointment/nope/$cancel",
            "/Appointment/$register-vaccination", "/Communication/nope/$mark-read",
            "/Communication/$mark-read", "/Patient/$book", "/Appointment/$cancel"]
    for who in ("A", "practitioner"):
        for url in urls:
            for body in junk:
                response = world.send(who, "POST", url, body)
                assert response.status_code < 500, (who, url, body, response.get_json())
                if response.status_code >= 400:
                    assert response.get_json()["resourceType"] == "OperationOutcome"
