"""One person, one record (issue 14 point 1): national identifiers are checked on every Patient
write and name one Patient only; citizens' and sites' phone numbers are E.164.

Spec: R4 patient.html (Patient.identifier, "an identifier for this patient"), datatypes.html
#ContactPoint; the rules are the VN Patient profile's (vn-pat-1..4, vn-cccd-consistency)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from tests.api.auth_helpers import bearer, register

FHIR = {"Content-Type": "application/fhir+json"}
CCCD = "urn:vn:cccd"


@pytest.fixture(scope="module")
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture(scope="module")
def auth_app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(auth_required=True)


def _patient(value: str, system: str = CCCD, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "identifier": [{"system": system, "value": value}],
            **extra}


def _issue(response: Any) -> dict[str, Any]:
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome", body
    return next(i for i in body["issue"] if i["severity"] in ("error", "fatal"))


@pytest.mark.parametrize("value,system,gender,birth", [
    ("12345", CCCD, "male", "1990-01-01"),            # vn-pat-1: 12 digits
    ("07909000123X", CCCD, "male", "1990-01-01"),
    ("999090001234", CCCD, "male", "1990-01-01"),     # no province 999
    ("079190001234", CCCD, "male", "1990-01-01"),     # digit 4 = 1: a woman
    ("079091001234", CCCD, "male", "1990-01-01"),     # digits 5-6 = 91, born 1990
    ("12345", "urn:vn:bhxh", None, None),              # vn-pat-4: 10 digits
    ("XX6123456789012", "urn:vn:bhyt", None, None),    # vn-pat-3: benefit level 1-5
])
def test_identifiers_that_fail_their_rules_are_refused(app: Flask, value: str, system: str,
                                                       gender: str | None,
                                                       birth: str | None) -> None:
    web = app.test_client()
    extra = {k: v for k, v in (("gender", gender), ("birthDate", birth)) if v}
    response = web.post("/Patient", json=_patient(value, system, **extra), headers=FHIR)
    assert response.status_code == 422, response.get_json()
    issue = _issue(response)
    assert issue["expression"][0].startswith("Patient.identifier[0]"), issue


def test_a_valid_cccd_is_stored_and_a_second_patient_with_it_gets_409(app: Flask) -> None:
    web = app.test_client()
    body = _patient("079090005678", gender="male", birthDate="1990-05-01")
    first = web.post("/Patient", json=body, headers=FHIR)
    assert first.status_code == 201, first.get_json()
    first_id = first.get_json()["id"]
    second = web.post("/Patient", json={**body, "name": [{"text": "Someone Else"}]},
                      headers=FHIR)
    assert second.status_code == 409
    issue = _issue(second)
    assert issue["code"] == "duplicate" and issue["expression"] == ["Patient.identifier[0]"]
    assert f"Patient/{first_id}" in issue["diagnostics"]
    found = web.get(f"/Patient?identifier={CCCD}|079090005678").get_json()
    assert found["total"] == 1  # nothing stored by the refused write


def test_citizens_keep_phone_numbers_in_e164(auth_app: Flask) -> None:
    web = auth_app.test_client()
    tokens = register(auth_app, web, "Lê Văn Nam")
    headers = {**FHIR, **bearer(tokens["access_token"])}
    own = web.get(f"/Patient/{tokens['patient']}", headers=headers).get_json()
    local = {**own, "telecom": [{"system": "phone", "value": "0912 345 678"}]}
    refused = web.put(f"/Patient/{own['id']}", json=local, headers=headers)
    assert refused.status_code == 422
    assert _issue(refused)["expression"] == ["Patient.telecom[0].value"]
    e164 = {**own, "telecom": [{"system": "phone", "value": "+84912345678"}]}
    assert web.put(f"/Patient/{own['id']}", json=e164, headers=headers).status_code == 200


def test_hospital_imports_keep_their_phone_numbers(app: Flask) -> None:
    """Open (system) writes of foreign data, such as Synthea's US numbers, are not refused."""
    body = {"resourceType": "Patient", "telecom": [{"system": "phone", "value": "555-123-4567"}]}
    assert app.test_client().post("/Patient", json=body, headers=FHIR).status_code == 201
