"""Vaccination registration (Đăng ký tiêm chủng), issue 14 point 4, walked over HTTP: the
citizen registers a family member (birth date, gender, BHYT, priority group, preferred date,
site) with Appointment/$register-vaccination → a proposed Appointment (vn-appointment-
vaccination); the site lists pending registrations with a standard search; it accepts one by
booking a Slot (Appointment/[id]/$book: booked + Slot busy) or declines with a reason
(Appointment/[id]/$cancel); the citizen gets an in-app Communication and one Vietnamese SMS
per event. FHIR R4 appointment.html (status proposed → booked | cancelled, cancelationReason),
slot.html, communication.html.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from fhir_server.scheduling.registration import PRIORITY_SYSTEM, PROFILE
from tests.api.campaign_world import FHIR_JSON, Campaign, at, expressions, parameters
from tests.api.test_appointment_booking import texts

VACCINE = "http%3A%2F%2Fsnomed.info%2Fsct%7C33879002"


@pytest.fixture(scope="module")
def world(make_app: Callable[..., Flask]) -> Campaign:
    return Campaign(make_app(auth_required=True))


def day(days: int) -> str:
    """A date `days` from today."""
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def _register(world: Campaign, who: str, patient: str, **extra: Any) -> Any:
    inputs: dict[str, Any] = {"patient": {"reference": f"Patient/{patient}"},
                              "site": {"reference": f"Location/{world.site}"},
                              "priorityGroup": ("code", "8"), "preferredDate": ("date", day(5)),
                              **extra}
    return world.send(who, "POST", "/Appointment/$register-vaccination",
                      parameters(**{k: v for k, v in inputs.items() if v is not None}))


def _ids(world: Campaign, who: str, query: str) -> list[str]:
    response = world.send(who, "GET", f"/Appointment?{query}")
    assert response.status_code == 200, response.get_json()
    return [e["resource"]["id"] for e in response.get_json().get("entry", [])]


def test_register_list_accept(world: Campaign) -> None:
    registered = _register(world, "A", world.family, birthDate=("date", "2008-03-01"),
                           gender=("code", "female"), bhyt="HS4010123456789")
    assert registered.status_code == 201, registered.get_json()
    appointment = registered.get_json()
    assert appointment["status"] == "proposed"
    assert appointment["meta"]["profile"] == [PROFILE]
    assert appointment["extension"][0]["valueCoding"]["code"] == "8"
    member = world.read("A", f"Patient/{world.family}")
    assert {"system": "urn:vn:bhyt", "value": "HS4010123456789"} in member["identifier"]

    pending = (f"status=proposed&service-type={VACCINE}&date={day(5)}"
               f"&location=Location/{world.site}")
    assert appointment["id"] in _ids(world, "practitioner", pending)
    assert appointment["id"] in _ids(world, "practitioner", f"{pending}&reason-code="
                                     f"{PRIORITY_SYSTEM}|8")
    assert appointment["id"] not in _ids(world, "practitioner", f"{pending}&reason-code="
                                         f"{PRIORITY_SYSTEM}|9")
    assert appointment["id"] in _ids(world, "practitioner", f"{pending}"
                                     "&location.address-state=Hà Nội")
    assert _ids(world, "B", pending) == []  # another citizen sees nothing of it

    schedule = world.schedule(f"Location/{world.site}")
    slot = world.slot(schedule, at(5, 9), at(5, 9, 15))
    refused = world.send("A", "POST", f"/Appointment/{appointment['id']}/$book",
                         parameters(slot={"reference": f"Slot/{slot}"}))
    assert refused.status_code == 403  # the citizen cannot accept their own registration
    accepted = world.send("practitioner", "POST", f"/Appointment/{appointment['id']}/$book",
                          parameters(slot={"reference": f"Slot/{slot}"}))
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["status"] == "booked"
    assert accepted.get_json()["start"] == at(5, 9)
    assert world.read("A", f"Slot/{slot}")["status"] == "busy"
    retried = world.send("practitioner", "POST", f"/Appointment/{appointment['id']}/$book",
                         parameters(slot={"reference": f"Slot/{slot}"}))
    assert retried.status_code == 200
    sms = [t for t in texts(world, world.a["e164"]) if "được chấp nhận" in t]
    assert len(sms) == 1 and "Nguyễn Thị Bé" in sms[0]
    assert "16:00 ngày" in sms[0]  # 09:00 UTC, told in Vietnam time (UTC+7)
    notices = world.send("A", "GET", f"/Communication?recipient=Patient/{world.family}"
                                     "&status=in-progress&_summary=count")
    assert notices.get_json()["total"] == 1


def test_decline_with_reason_then_register_again(world: Campaign) -> None:
    registered = _register(world, "B", world.b["patient"], priorityGroup=("code", "15"))
    assert registered.status_code == 201, registered.get_json()
    appointment_id = registered.get_json()["id"]
    no_reason = world.send("practitioner", "POST", f"/Appointment/{appointment_id}/$cancel")
    assert no_reason.status_code == 400 and expressions(no_reason) == ["reason"]
    declined = world.send("practitioner", "POST", f"/Appointment/{appointment_id}/$cancel",
                          parameters(reason="Hết vắc xin cho nhóm 15 trong đợt này"))
    assert declined.status_code == 200, declined.get_json()
    assert declined.get_json()["status"] == "cancelled"
    assert declined.get_json()["cancelationReason"]["text"].startswith("Hết vắc xin")
    again = world.send("practitioner", "POST", f"/Appointment/{appointment_id}/$cancel",
                       parameters(reason="Hết vắc xin cho nhóm 15 trong đợt này"))
    assert again.status_code == 200
    sms = [t for t in texts(world, world.b["e164"]) if "chưa được chấp nhận" in t]
    assert len(sms) == 1 and "Hết vắc xin" in sms[0]
    assert _register(world, "B", world.b["patient"]).status_code == 201  # a new registration


def test_bad_registrations_write_nothing(world: Campaign) -> None:
    patient = world.a["patient"]
    before = world.read("A", f"Patient/{patient}")
    cases = [({"priorityGroup": ("code", "99")}, 422, "priorityGroup"),
             ({"preferredDate": ("date", day(-1))}, 422, "preferredDate"),
             ({"preferredDate": "soon"}, 400, "preferredDate"),
             ({"gender": ("code", "robot")}, 400, "gender"),
             ({"site": {"reference": "Patient/x"}}, 400, "site"),
             ({"site": {"reference": "Location/unknown"}}, 422, "site")]
    for extra, status, where in cases:
        response = _register(world, "A", patient, **extra)
        assert response.status_code == status, (extra, response.get_json())
        assert expressions(response) == [where], response.get_json()
    other = _register(world, "B", world.family)
    assert other.status_code in (403, 404), other.get_json()
    assert _ids(world, "A", f"patient=Patient/{patient}&status=proposed") == []
    assert world.read("A", f"Patient/{patient}")["meta"] == before["meta"]


def test_data_differing_from_the_record_is_refused_whole(world: Campaign) -> None:
    member = world.http.post("/auth/family", headers=world.tokens["A"], json={
        "full_name": "Nguyễn Văn Tí", "birthDate": "2012-01-01", "gender": "male",
        "relationship": "SON"}).get_json()
    world.tokens["A"] = {"Authorization": f"Bearer {member['access_token']}"}
    before = world.read("A", f"Patient/{member['member']}")
    response = _register(world, "A", member["member"], birthDate=("date", "1990-01-01"),
                         bhyt="DN4010000000001")
    assert response.status_code == 422 and expressions(response) == ["birthDate"]
    assert world.read("A", f"Patient/{member['member']}") == before  # BHYT not added either
    assert _ids(world, "A", f"patient=Patient/{member['member']}") == []


def test_twice_for_one_campaign_is_refused_even_in_parallel(world: Campaign) -> None:
    member = world.http.post("/auth/family", headers=world.tokens["A"], json={
        "full_name": "Nguyễn Văn Cốm", "birthDate": "2010-05-05", "gender": "male",
        "relationship": "SON"}).get_json()
    world.tokens["A"] = {"Authorization": f"Bearer {member['access_token']}"}
    body = parameters(patient={"reference": f"Patient/{member['member']}"},
                      site={"reference": f"Location/{world.site}"},
                      priorityGroup=("code", "8"), preferredDate=("date", day(6)))

    def post(_n: int) -> int:
        return world.app.test_client().post("/Appointment/$register-vaccination", json=body,
                                            headers={"Content-Type": FHIR_JSON,
                                                     **world.tokens["A"]}).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(post, range(8)))
    assert sorted(statuses) == [201] + [409] * 7, statuses
    twice = world.send("A", "POST", "/Appointment/$register-vaccination", body)
    assert twice.status_code == 409 and expressions(twice) == ["patient"]
    other = world.send("A", "POST", "/Appointment/$register-vaccination", {
        **body, "parameter": [*body["parameter"], {"name": "campaign",
                                                   "valueString": "covid19-booster"}]})
    assert other.status_code == 201  # another campaign


def test_citizen_withdraws_own_registration(world: Campaign) -> None:
    member = world.http.post("/auth/family", headers=world.tokens["A"], json={
        "full_name": "Nguyễn Thị Na", "birthDate": "2009-09-09", "gender": "female",
        "relationship": "DAU"}).get_json()
    world.tokens["A"] = {"Authorization": f"Bearer {member['access_token']}"}
    registered = _register(world, "A", member["member"])
    assert registered.status_code == 201, registered.get_json()
    withdrawn = world.send("A", "POST", f"/Appointment/{registered.get_json()['id']}/$cancel")
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "cancelled"
    listed = world.send("A", "GET", f"/Communication?recipient=Patient/{member['member']}")
    [notice] = [e["resource"] for e in listed.get_json()["entry"]]
    assert notice["payload"][0]["contentString"].startswith("Đăng ký/lịch tiêm chủng của "
                                                            "Nguyễn Thị Na đã được hủy")
