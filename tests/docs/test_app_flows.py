"""The campaign loop as the app and a site walk it over HTTP (issue 14 point 12): each step
asserts what the server must answer, and the transcript is docs/app-api.md, compared here
(FHIR_WRITE_DOCS=1 rewrites it). R4: http.html, operations as cited in docs/app-rules.md."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from fhir_server.notify.gateways import FileSink
from fhir_server.scheduling.notices import VIETNAM
from tests.api.auth_helpers import PASSWORD, bearer, sms_codes, staff_headers
from tests.api.test_health_declarations import declaration
from tests.docs.flow_recorder import FlowRecorder

DOC = Path(__file__).resolve().parents[2] / "docs" / "app-api.md"
FHIR = {"Content-Type": "application/fhir+json"}
PHONE, E164 = "0987000111", "+84987000111"
CVX = "http://hl7.org/fhir/sid/cvx"


@pytest.fixture(scope="module")
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(auth_required=True)


def _staff(app: Flask, role: str) -> dict[str, str]:
    return staff_headers(app, role)


def _last_sms(app: Flask, phone: str) -> str:
    sink = FileSink(app.extensions["fhir"].settings.sms_gateway.split(":", 1)[1])
    return str(sink.messages(phone)[-1]["text"])


def _params(**values: Any) -> dict[str, Any]:
    out = []
    for name, value in values.items():
        kind, raw = value if isinstance(value, tuple) else ("String", value)
        out.append({"name": name, f"value{kind}": raw})
    return {"resourceType": "Parameters", "parameter": out}


def test_the_campaign_loop(app: Flask) -> None:
    today = datetime.now(VIETNAM).date()
    flows = FlowRecorder(app, today)
    nurse, admin = _staff(app, "practitioner"), _staff(app, "admin")
    site = flows.web.post("/Location", headers=admin, json={
        "resourceType": "Location", "name": "Trạm y tế phường Giảng Võ",
        "address": {"city": "Ba Đình", "state": "Hà Nội"}}).get_json()["id"]
    flows.name(site, "site")
    doctor = flows.web.post("/Practitioner", headers=admin, json={
        "resourceType": "Practitioner", "name": [{"text": "ĐD. Lê Thu Hà"}]}).get_json()["id"]
    flows.name(doctor, "nurse")

    flows.section("A site registers and vaccinates a person with no app yet",
                  "The site's system (a practitioner's token) records the person and the dose; "
                  "the person is texted the invitation and the dose.")
    patient = flows.call("site", "POST", "/Patient", {
        "resourceType": "Patient", "name": [{"use": "official", "text": "Vũ Thị Mai",
                                             "family": "Vũ", "given": ["Thị", "Mai"]}],
        "gender": "female", "birthDate": "1990-04-02",
        "identifier": [{"system": "urn:vn:cccd", "value": "001190004567"}],
        "telecom": [{"system": "phone", "value": E164}]}, nurse)
    assert patient.status_code == 201
    pid = patient.get_json()["id"]
    flows.say(f"SMS to {E164}: {_last_sms(app, E164)}")
    dose = flows.call("site", "POST", "/Immunization", {
        "resourceType": "Immunization", "status": "completed",
        "vaccineCode": {"coding": [{"system": CVX, "code": "210", "display": "AstraZeneca"}]},
        "patient": {"reference": f"Patient/{pid}"}, "occurrenceDateTime": today.isoformat(),
        "primarySource": True, "lotNumber": "NJ0456", "location": {"reference": f"Location/{site}"},
        "performer": [{"actor": {"reference": f"Practitioner/{doctor}"}}],
        "protocolApplied": [{"doseNumberPositiveInt": 1, "seriesDosesPositiveInt": 2}]}, nurse)
    assert dose.status_code == 201
    dose_id = dose.get_json()["id"]
    sms = _last_sms(app, E164)
    assert (today + timedelta(days=56)).isoformat() in sms
    flows.say(f"SMS to {E164}: {sms}")

    flows.section("She installs the app and registers",
                  "Registering with the phone the site recorded joins her record.")
    started = flows.call("app", "POST", "/auth/register", {
        "full_name": "Vũ Thị Mai", "phone": PHONE, "password": PASSWORD})
    assert started.status_code == 202
    flows.name(started.get_json()["registration"], "registration")
    code = sms_codes(app, E164)[-1]
    flows.say(f"SMS to {E164}: {_last_sms(app, E164)}")
    joined = flows.call("app", "POST", "/auth/register/confirm", {
        "registration": started.get_json()["registration"], "code": code})
    assert joined.status_code == 201 and joined.get_json()["patient"] == pid
    mine = {**FHIR, **bearer(joined.get_json()["access_token"])}
    doses = flows.call("app", "GET", "/Immunization", headers=mine)
    assert doses.get_json()["total"] == 1
    notices = flows.call("app", "GET", "/Communication?category=notification", headers=mine)
    assert notices.get_json()["total"] == 1
    due = flows.call("app", "GET", "/ImmunizationRecommendation", headers=mine)
    assert due.get_json()["entry"][0]["resource"]["recommendation"][0][
        "doseNumberPositiveInt"] == 2
    confirmed = flows.call("app", "POST", f"/Immunization/{dose_id}/$confirm", {}, mine,
                           "Xác nhận tiêm chủng")
    assert confirmed.status_code == 201

    flows.section("Her certificate and a reaction",
                  "The site verifies her identity at the dose; the app gets the card, then "
                  "she reports a reaction that evening.")
    verified = flows.call("site", "POST", f"/Patient/{pid}/$verify-identity",
                          {"resourceType": "Parameters", "parameter": []}, nurse)
    assert verified.status_code == 200
    card = flows.call("app", "POST", f"/Patient/{pid}/$health-cards-issue", {
        "resourceType": "Parameters", "parameter": [
            {"name": "credentialType", "valueUri": "https://smarthealth.cards#immunization"}]},
        mine)
    assert card.status_code == 200
    parts = {p["name"] for p in card.get_json()["parameter"]}
    assert {"verifiableCredential", "healthCard"} <= parts
    reaction = flows.call("app", "POST", "/QuestionnaireResponse", {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "https://fhir.moh.gov.vn/fhir/Questionnaire/vn-post-vaccination-survey",
        "status": "completed", "subject": {"reference": f"Patient/{pid}"},
        "authored": f"{today.isoformat()}T21:00:00+07:00",
        "item": [
            {"linkId": "immunization",
             "answer": [{"valueReference": {"reference": f"Immunization/{dose_id}"}}]},
            {"linkId": "vaccine", "answer": [{"valueCoding": {
                "system": "https://fhir.moh.gov.vn/terminology/CodeSystem/vn-covid19-vaccine",
                "code": "astrazeneca"}}]},
            {"linkId": "dose", "answer": [{"valueInteger": 1}]},
            {"linkId": "vaccination-date", "answer": [{"valueDate": today.isoformat()}]},
            {"linkId": "onset", "answer": [{"valueDateTime":
                                            f"{today.isoformat()}T20:00:00+07:00"}]},
            {"linkId": "symptoms", "answer": [{"valueCoding": {
                "system": "https://fhir.moh.gov.vn/terminology/CodeSystem/"
                          "vn-post-vaccination-reaction", "code": "sot"}}]},
            {"linkId": "severity", "answer": [{"valueCoding": {
                "system": "http://terminology.hl7.org/CodeSystem/adverse-event-severity",
                "code": "mild"}}]},
            {"linkId": "care", "answer": [{"valueString":
                                           "Tự theo dõi, chăm sóc tại nhà (self-care)"}]}]},
        {**mine, "Prefer": "return=OperationOutcome"})
    assert reaction.status_code == 201, reaction.get_json()
    events = flows.call("app", "GET", f"/AdverseEvent?subject=Patient/{pid}", headers=mine)
    assert events.get_json()["total"] == 1
    record = flows.call("app", "GET", f"/Patient/{pid}/$everything?_type=Immunization,"
                        "AdverseEvent,ImmunizationRecommendation", headers=mine,
                        note="Hồ sơ sức khỏe")
    assert record.status_code == 200

    flows.section("Her family", "She adds her son, reads the list, corrects his name.")
    added = flows.call("app", "POST", "/auth/family", {
        "full_name": "Vũ Minh Khang", "relationship": "SON", "gender": "male",
        "birthDate": "2014-09-01"}, mine)
    assert added.status_code == 201
    mine = {**FHIR, **bearer(added.get_json()["access_token"])}
    son = added.get_json()["member"]
    listed = flows.call("app", "GET", "/auth/family", headers=mine)
    assert listed.get_json()["members"][0]["relationship"] == "SON"
    fixed = flows.call("app", "PATCH", f"/auth/family/{son}", {"full_name": "Vũ Minh Khôi"},
                       mine)
    assert fixed.status_code == 200

    flows.section("A doctor's appointment (Đặt khám)",
                  "The clinic publishes a slot; she books it for her son, then cancels.")
    schedule = flows.web.post("/Schedule", headers=admin, json={
        "resourceType": "Schedule", "active": True,
        "actor": [{"reference": f"Practitioner/{doctor}"}]}).get_json()["id"]
    flows.name(schedule, "schedule")
    start = datetime.combine(today + timedelta(days=1), datetime.min.time(), VIETNAM)
    slot = flows.web.post("/Slot", headers=admin, json={
        "resourceType": "Slot", "schedule": {"reference": f"Schedule/{schedule}"},
        "status": "free", "start": (start + timedelta(hours=8)).isoformat(),
        "end": (start + timedelta(hours=8, minutes=30)).isoformat()}).get_json()["id"]
    flows.name(slot, "slot")
    free = flows.call("app", "GET", f"/Slot?schedule=Schedule/{schedule}&status=free",
                      headers=mine)
    assert free.get_json()["total"] == 1
    booked = flows.call("app", "POST", "/Appointment/$book", {
        "resourceType": "Parameters", "parameter": [
            {"name": "patient", "valueReference": {"reference": f"Patient/{son}"}},
            {"name": "slot", "valueReference": {"reference": f"Slot/{slot}"}}]}, mine)
    assert booked.status_code == 201
    unread = flows.call("app", "GET", f"/Communication?recipient=Patient/{son}&category="
                        "notification&status=in-progress&_summary=count", headers=mine)
    assert unread.get_json()["total"] == 1
    cancelled = flows.call("app", "POST", f"/Appointment/{booked.get_json()['id']}/$cancel",
                           _params(reason="Con đã khỏe"), mine)
    assert cancelled.get_json()["status"] == "cancelled"

    flows.section("Vaccination registration (Đăng ký tiêm chủng)",
                  "She registers her son for a dose; the site lists pending registrations and "
                  "books him into a slot; he is told in the app and by SMS.")
    registered = flows.call("app", "POST", "/Appointment/$register-vaccination", {
        "resourceType": "Parameters", "parameter": [
            {"name": "patient", "valueReference": {"reference": f"Patient/{son}"}},
            {"name": "site", "valueReference": {"reference": f"Location/{site}"}},
            {"name": "priorityGroup", "valueCode": "15"},
            {"name": "preferredDate", "valueDate": (today + timedelta(days=2)).isoformat()},
            {"name": "bhyt", "valueString": "HS4010123456789"}]}, mine)
    assert registered.status_code == 201, registered.get_json()
    pending = flows.call("site", "GET", "/Appointment?status=proposed&service-type="
                         f"http://snomed.info/sct|33879002&location=Location/{site}",
                         headers=nurse)
    assert pending.get_json()["total"] == 1
    day_slot = flows.web.post("/Slot", headers=admin, json={
        "resourceType": "Slot", "schedule": {"reference": f"Schedule/{schedule}"},
        "status": "free", "start": (start + timedelta(days=1, hours=9)).isoformat(),
        "end": (start + timedelta(days=1, hours=9, minutes=15)).isoformat()}).get_json()["id"]
    flows.name(day_slot, "slot-2")
    accepted = flows.call("site", "POST",
                          f"/Appointment/{registered.get_json()['id']}/$book",
                          {"resourceType": "Parameters", "parameter": [
                              {"name": "slot", "valueReference": {"reference":
                                                                  f"Slot/{day_slot}"}}]},
                          nurse)
    assert accepted.get_json()["status"] == "booked"
    flows.say(f"SMS to {E164}: {_last_sms(app, E164)}")
    read = flows.call("app", "POST", "/Communication/$mark-read",
                      {"resourceType": "Parameters", "parameter": [
                          {"name": "recipient", "valueReference": {
                              "reference": f"Patient/{son}"}}]}, mine,
                      "everything read")
    assert read.status_code == 200

    flows.section("Health declaration (Khai báo y tế)",
                  "She declares for herself; the authority finds declarations by date and area.")
    declared = flows.call("app", "POST", "/QuestionnaireResponse",
                          declaration(pid, pid, day=today.isoformat()), mine)
    assert declared.status_code == 201, declared.get_json()
    found = flows.call("authority", "GET", "/QuestionnaireResponse?questionnaire="
                       "https://fhir.moh.gov.vn/fhir/Questionnaire/vn-health-declaration"
                       f"&authored=ge{today.isoformat()}&area=01", headers=admin)
    assert found.get_json()["total"] == 1

    flows.section("Matching at another site",
                  "A hospital checks whether it knows her before making a record.")
    matched = flows.call("hospital", "POST", "/Patient/$match", {
        "resourceType": "Parameters", "parameter": [{"name": "resource", "resource": {
            "resourceType": "Patient", "name": [{"text": "Vũ Thị Mai"}], "gender": "female",
            "birthDate": "1990-04-02",
            "identifier": [{"system": "urn:vn:cccd", "value": "001190004567"}]}}]}, nurse)
    assert matched.get_json()["entry"][0]["search"]["extension"][0]["valueCode"] == "certain"

    transcript = flows.render()
    if os.environ.get("FHIR_WRITE_DOCS"):
        DOC.write_text(transcript, "utf-8")
    assert DOC.exists() and DOC.read_text("utf-8") == transcript, (
        "docs/app-api.md differs from what the server answers: run "
        "FHIR_WRITE_DOCS=1 pytest tests/docs/test_app_flows.py and review the diff")
