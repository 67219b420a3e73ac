"""Patient/$match (R4 patient-operation-match.html): candidates scored and graded with the
match-grade extension (certain / probable / possible), best first; for sites and hospitals."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from fhir_server.operations.match import grade, score
from tests.api.auth_helpers import bearer, register, staff_headers

FHIR = {"Content-Type": "application/fhir+json"}
GRADE = "http://hl7.org/fhir/StructureDefinition/match-grade"


def _person(bhxh: str | None = None, **extra: Any) -> dict[str, Any]:
    patient: dict[str, Any] = {"resourceType": "Patient", "gender": "female",
                               "birthDate": "1985-03-04",
                               "name": [{"family": "Võ", "given": ["Thị", "Lan"],
                                         "text": "Võ Thị Lan"}], **extra}
    if bhxh:
        patient["identifier"] = [{"system": "urn:vn:bhxh", "value": bhxh}]
    return patient


def test_scores_and_grades() -> None:
    stored = {**_person("7912345678"), "id": "x"}
    assert grade(score(_person("7912345678"), stored) or 0) == "certain"
    assert grade(score(_person("7912345678", name=[{"text": "Other Name"}]), stored) or 0) \
        == "probable"
    assert grade(score(_person(), stored) or 0) == "possible"  # name, birth date, gender
    assert score(_person("7900000000"), stored) is None  # same system, another number
    assert grade(score(_person(birthDate="1999-01-01", name=[{"family": "Võ"}]), stored) or 0) \
        is None


@pytest.fixture(scope="module")
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(auth_required=True)


def _staff(app: Flask) -> dict[str, str]:
    return staff_headers(app)


def test_match_over_http_grades_candidates_best_first(app: Flask) -> None:
    web, nurse = app.test_client(), _staff(app)
    bhxh = f"79{uuid.uuid4().int % 10**8:08d}"
    family = f"Võ{uuid.uuid4().hex[:6]}"
    named = [{"family": family, "given": ["Thị", "Lan"], "text": f"{family} Thị Lan"}]
    same = web.post("/Patient", headers=nurse, json=_person(bhxh, name=named)).get_json()["id"]
    alike = web.post("/Patient", headers=nurse, json=_person(name=named)).get_json()["id"]
    asked = {"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": _person(bhxh, name=named)}]}
    found = web.post("/Patient/$match", headers=nurse, json=asked)
    assert found.status_code == 200, found.get_json()
    bundle = found.get_json()
    assert bundle["type"] == "searchset"
    grades = [(e["resource"]["id"], e["search"]["extension"][0]["valueCode"])
              for e in bundle["entry"]]
    assert grades == [(same, "certain"), (alike, "possible")]
    assert all(e["search"]["extension"][0]["url"] == GRADE for e in bundle["entry"])
    certain = web.post("/Patient/$match", headers=nurse, json={**asked, "parameter": [
        *asked["parameter"], {"name": "onlyCertainMatches", "valueBoolean": True}]})
    assert [e["resource"]["id"] for e in certain.get_json()["entry"]] == [same]


def test_match_refuses_citizens_and_bad_input(app: Flask) -> None:
    web, nurse = app.test_client(), _staff(app)
    citizen = register(app, web, "Lý Văn Dân")
    asked = {"resourceType": "Parameters",
             "parameter": [{"name": "resource", "resource": _person()}]}
    refused = web.post("/Patient/$match", json=asked,
                       headers={**FHIR, **bearer(citizen["access_token"])})
    assert refused.status_code == 403
    missing = web.post("/Patient/$match", headers=nurse,
                       json={"resourceType": "Parameters", "parameter": []})
    assert missing.status_code == 400
    assert missing.get_json()["issue"][0]["expression"] == ["resource"]
    wrong = web.post("/Patient/$match", headers=nurse, json={
        "resourceType": "Parameters",
        "parameter": [{"name": "resource", "resource": {"resourceType": "Observation",
                                                        "status": "final",
                                                        "code": {"text": "x"}}}]})
    assert wrong.status_code == 400
