"""One person, one record at registration (issue 14 point 1): a person a vaccination site
recorded who then registers in the app gets that record (and its doses), never a second one;
a national identifier held by a record with another phone is refused, not joined; login by
the BHXH code the site recorded. R4 patient.html ("Patient.link ... one person, one record")."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.auth_helpers import PASSWORD, bearer, next_phone, sms_codes, staff_headers

FHIR = {"Content-Type": "application/fhir+json"}


@pytest.fixture(scope="module")
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(auth_required=True)


@pytest.fixture(scope="module")
def nurse(app: Flask) -> dict[str, str]:
    return staff_headers(app)


def _site_records(app: Flask, nurse: dict[str, str], phone: str, name: str,
                  identifiers: list[dict[str, str]]) -> str:
    web = app.test_client()
    e164 = "+84" + phone[1:]
    family, *given = name.split()
    body = {"resourceType": "Patient", "name": [{"text": name, "family": family,
                                                 "given": given}],
            "gender": "male", "birthDate": "1990-04-02",
            "telecom": [{"system": "phone", "value": e164}]}
    patient = web.post("/Patient", headers=nurse,
                       json={**body, "identifier": identifiers} if identifiers else body)
    assert patient.status_code == 201, patient.get_json()
    pid = patient.get_json()["id"]
    dose = web.post("/Immunization", headers=nurse, json={
        "resourceType": "Immunization", "status": "completed",
        "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "208"}]},
        "patient": {"reference": f"Patient/{pid}"}, "occurrenceDateTime": "2021-09-01",
        "lotNumber": "A1", "location": {"display": "Trạm y tế"},
        "performer": [{"actor": {"display": "ĐD. Hà"}}],
        "protocolApplied": [{"doseNumberPositiveInt": 1}]})
    assert dose.status_code == 201, dose.get_json()
    return str(pid)


def _register(app: Flask, web: FlaskClient, phone: str, name: str, **extra: Any) -> Any:
    started = web.post("/auth/register", json={"full_name": name, "phone": phone,
                                               "password": PASSWORD, **extra})
    assert started.status_code == 202, started.get_json()
    body = started.get_json()
    return web.post("/auth/register/confirm", json={
        "registration": body["registration"], "code": sms_codes(app, body["phone"])[-1]})


def _bhxh() -> str:
    return f"79{uuid.uuid4().int % 10**8:08d}"


def test_registering_joins_the_record_the_site_made(app: Flask, nurse: dict[str, str]) -> None:
    web = app.test_client()
    phone, bhxh = next_phone(), _bhxh()
    pid = _site_records(app, nurse, phone, "Phạm Văn Bình",
                        [{"system": "urn:vn:bhxh", "value": bhxh}])
    confirmed = _register(app, web, phone, "phạm  văn bình", birthDate="1990-04-02")
    assert confirmed.status_code == 201, confirmed.get_json()
    assert confirmed.get_json()["patient"] == pid  # the site's record, not a new one
    citizen = bearer(confirmed.get_json()["access_token"])
    doses = web.get("/Immunization", headers=citizen).get_json()
    assert [e["resource"]["patient"]["reference"] for e in doses["entry"]] == [f"Patient/{pid}"]
    mine = web.get(f"/Patient?phone=%2B84{phone[1:]}", headers=nurse).get_json()
    assert mine["total"] == 1  # never duplicated
    by_bhxh = web.post("/auth/login", json={"username": bhxh, "password": PASSWORD})
    assert by_bhxh.status_code == 200, by_bhxh.get_json()  # the BHXH code the site recorded
    assert by_bhxh.get_json()["patient"] == pid


def test_an_identifier_held_by_a_record_with_another_phone_is_refused(
        app: Flask, nurse: dict[str, str]) -> None:
    web = app.test_client()
    bhxh = _bhxh()
    _site_records(app, nurse, next_phone(), "Trần Văn Chủ",
                  [{"system": "urn:vn:bhxh", "value": bhxh}])
    intruder = next_phone()
    refused = _register(app, web, intruder, "Trần Văn Chủ", bhxh=bhxh)
    assert refused.status_code == 409, refused.get_json()
    assert "vaccination site" in refused.get_json()["issue"][0]["diagnostics"]
    login = web.post("/auth/login", json={"username": intruder, "password": PASSWORD})
    assert login.status_code == 401  # no account was made
    held = web.get(f"/Patient?identifier=urn:vn:bhxh|{bhxh}", headers=nurse).get_json()
    assert held["total"] == 1


def test_another_person_on_the_same_phone_gets_their_own_record(
        app: Flask, nurse: dict[str, str]) -> None:
    """A site often records an elderly parent with a child's phone: the child registering
    with that phone is another person (another name) and gets a new record."""
    web = app.test_client()
    phone = next_phone()
    parent = _site_records(app, nurse, phone, "Nguyễn Thị Mẹ", [])
    confirmed = _register(app, web, phone, "Nguyễn Văn Con")
    assert confirmed.status_code == 201
    assert confirmed.get_json()["patient"] != parent


def test_registration_fields_are_checked_before_any_code_is_sent(app: Flask) -> None:
    web = app.test_client()
    phone = next_phone()
    bad = web.post("/auth/register", json={"full_name": "A B", "phone": phone,
                                           "password": PASSWORD, "cccd": "12345"})
    assert bad.status_code == 422
    assert bad.get_json()["issue"][0]["expression"] == ["cccd"]
    odd = web.post("/auth/register", json={"full_name": "A B", "phone": phone,
                                           "password": PASSWORD, "birth_date": "1990-01-01"})
    assert odd.status_code == 400
    assert odd.get_json()["issue"][0]["expression"] == ["birth_date"]
    assert sms_codes(app, "+84" + phone[1:]) == []  # no code went out for either
