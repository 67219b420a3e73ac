"""A site's writes reach the person (issue 14 points 3 and 5): registering someone by phone
texts the app invitation once; a recorded dose proposes the next one (R4
immunizationrecommendation.html), writes the in-app notice (communication.html) and texts the
dose with the schedule once; a voided dose updates the proposal; old imports text nobody."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from fhir_server.notify.gateways import FileSink
from fhir_server.scheduling.notices import VIETNAM
from tests.api.auth_helpers import PASSWORD, bearer, next_phone, sms_codes, staff_headers

FHIR = {"Content-Type": "application/fhir+json"}
CVX = "http://hl7.org/fhir/sid/cvx"


@pytest.fixture(scope="module")
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(auth_required=True)


@pytest.fixture(scope="module")
def nurse(app: Flask) -> dict[str, str]:
    return staff_headers(app)


def _texts(app: Flask, e164: str) -> list[str]:
    sink = FileSink(app.extensions["fhir"].settings.sms_gateway.split(":", 1)[1])
    return [m["text"] for m in sink.messages(e164)]


def _dose(patient: str, given: date, number: int, status: str = "completed") -> dict[str, Any]:
    return {"resourceType": "Immunization", "status": status,
            "vaccineCode": {"coding": [{"system": CVX, "code": "210",
                                        "display": "AstraZeneca"}]},
            "patient": {"reference": f"Patient/{patient}"},
            "occurrenceDateTime": given.isoformat(), "primarySource": True,
            "lotNumber": f"NJ{number}", "location": {"display": "Trạm y tế"},
            "performer": [{"actor": {"display": "ĐD. Hà"}}],
            "protocolApplied": [{"doseNumberPositiveInt": number, "seriesDosesPositiveInt": 2}]}


def _recommendation(app: Flask, nurse: dict[str, str], patient: str) -> dict[str, Any]:
    found = app.test_client().get(f"/ImmunizationRecommendation?patient={patient}",
                                  headers=nurse).get_json()
    assert found["total"] == 1, found  # one proposal per person, updated with each dose
    return dict(found["entry"][0]["resource"]["recommendation"][0])


def test_the_site_to_citizen_loop(app: Flask, nurse: dict[str, str]) -> None:
    web = app.test_client()
    phone = next_phone()
    e164 = "+84" + phone[1:]
    registered = web.post("/Patient", headers=nurse, json={
        "resourceType": "Patient", "name": [{"text": "Hoàng Văn Sơn", "family": "Hoàng",
                                             "given": ["Văn", "Sơn"]}],
        "telecom": [{"system": "phone", "value": e164}]})
    assert registered.status_code == 201
    patient = registered.get_json()["id"]
    assert len(_texts(app, e164)) == 1 and "dang ky bang so dien thoai" in _texts(app, e164)[0]
    web.put(f"/Patient/{patient}", headers=nurse, json=registered.get_json())
    assert len(_texts(app, e164)) == 1  # the invitation once

    today = datetime.now(VIETNAM).date()
    first = web.post("/Immunization", headers=nurse, json=_dose(patient, today, 1))
    assert first.status_code == 201
    texts = _texts(app, e164)
    second_from = (today + timedelta(days=56)).isoformat()  # AstraZeneca: 8-12 weeks
    assert len(texts) == 2 and "mui 1" in texts[1] and second_from in texts[1], texts
    web.put(f"/Immunization/{first.get_json()['id']}", headers=nurse, json=first.get_json())
    assert len(_texts(app, e164)) == 2  # one text per dose, however often it is written
    due = _recommendation(app, nurse, patient)
    assert due["forecastStatus"]["coding"][0]["code"] == "due"
    assert due["doseNumberPositiveInt"] == 2
    assert {c["value"] for c in due["dateCriterion"]} >= {second_from}

    confirmed = web.post("/auth/register", json={"full_name": "Hoàng Văn Sơn", "phone": phone,
                                                 "password": PASSWORD})
    code = sms_codes(app, e164)[-1]
    joined = web.post("/auth/register/confirm", json={
        "registration": confirmed.get_json()["registration"], "code": code}).get_json()
    assert joined["patient"] == patient
    citizen = bearer(joined["access_token"])
    notices = web.get("/Communication?category=notification", headers=citizen).get_json()
    assert [e["resource"]["about"][0]["reference"] for e in notices["entry"]] == [
        f"Immunization/{first.get_json()['id']}"]
    assert web.get("/ImmunizationRecommendation", headers=citizen).get_json()["total"] == 1

    second = web.post("/Immunization", headers=nurse, json=_dose(patient, today, 2))
    assert _recommendation(app, nurse, patient)["forecastStatus"]["coding"][0]["code"] == \
        "complete"
    void = {**second.get_json(), "status": "entered-in-error"}
    assert web.put(f"/Immunization/{void['id']}", headers=nurse, json=void).status_code == 200
    assert _recommendation(app, nurse, patient)["forecastStatus"]["coding"][0]["code"] == "due"


def test_old_records_and_citizens_text_nobody(app: Flask, nurse: dict[str, str]) -> None:
    web = app.test_client()
    e164 = "+84" + next_phone()[1:]
    patient = web.post("/Patient", headers=nurse, json={
        "resourceType": "Patient", "name": [{"text": "Cũ Văn Nhập"}],
        "telecom": [{"system": "phone", "value": e164}]}).get_json()["id"]
    before = len(_texts(app, e164))
    old = web.post("/Immunization", headers=nurse, json=_dose(patient, date(2021, 8, 2), 1))
    assert old.status_code == 201
    assert len(_texts(app, e164)) == before  # an imported old dose: no text, no proposal
    found = web.get(f"/ImmunizationRecommendation?patient={patient}", headers=nurse).get_json()
    assert found["total"] == 0


def test_the_dose_fulfils_the_booked_vaccination_appointment(app: Flask,
                                                              nurse: dict[str, str]) -> None:
    """appointment.html: a booked vaccination Appointment of the dose's day becomes
    fulfilled when the site records the dose (its Slot stays taken)."""
    web = app.test_client()
    patient = web.post("/Patient", headers=nurse, json={
        "resourceType": "Patient", "name": [{"text": "Đinh Văn Hẹn"}]}).get_json()["id"]
    schedule = web.post("/Schedule", headers=nurse, json={
        "resourceType": "Schedule", "active": True,
        "actor": [{"reference": f"Patient/{patient}"}]}).get_json()
    start = datetime.now(VIETNAM) + timedelta(minutes=3)
    end = start + timedelta(minutes=15)
    slot = web.post("/Slot", headers=nurse, json={
        "resourceType": "Slot", "schedule": {"reference": f"Schedule/{schedule['id']}"},
        "status": "free", "start": start.isoformat(), "end": end.isoformat()}).get_json()
    booked = web.post("/Appointment", headers=nurse, json={
        "resourceType": "Appointment", "status": "booked",
        "serviceType": [{"coding": [{"system": "http://snomed.info/sct",
                                     "code": "33879002"}]}],
        "slot": [{"reference": f"Slot/{slot['id']}"}],
        "start": start.isoformat(), "end": end.isoformat(),
        "participant": [{"actor": {"reference": f"Patient/{patient}"}, "status": "accepted"}]})
    assert booked.status_code == 201, booked.get_json()
    dose = web.post("/Immunization", headers=nurse, json=_dose(patient, start.date(), 1))
    assert dose.status_code == 201
    after = web.get(f"/Appointment/{booked.get_json()['id']}", headers=nurse).get_json()
    assert after["status"] == "fulfilled"


def test_a_site_dose_needs_lot_dose_number_site_and_vaccinator(app: Flask,
                                                              nurse: dict[str, str]) -> None:
    """vn-immunization (vn-imm-1, protocolApplied, location, performer): a completed dose a
    site's staff record without them is refused, naming each element, and nothing is stored."""
    web = app.test_client()
    patient = web.post("/Patient", headers=nurse, json={
        "resourceType": "Patient", "name": [{"text": "Thiếu Văn Lô"}]}).get_json()["id"]
    bare = {k: v for k, v in _dose(patient, date(2021, 8, 2), 1).items()
            if k not in ("lotNumber", "location", "performer", "protocolApplied")}
    refused = web.post("/Immunization", headers=nurse, json=bare)
    assert refused.status_code == 422
    assert {e for i in refused.get_json()["issue"] for e in i.get("expression", [])} == {
        "Immunization.lotNumber", "Immunization.protocolApplied", "Immunization.location",
        "Immunization.performer"}
    assert web.get(f"/Immunization?patient={patient}", headers=nurse).get_json()["total"] == 0
    voided = {**bare, "status": "entered-in-error"}
    assert web.post("/Immunization", headers=nurse, json=voided).status_code == 201
