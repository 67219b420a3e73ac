"""Next-dose forecast ($immds-forecast, Immunization Decision Support Forecast IG) and the
citizen's confirmation or dispute of a recorded dose (issue 14 point 5)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from tests.api.test_auth_matrix import World

FHIR = {"Content-Type": "application/fhir+json"}
CVX = "http://hl7.org/fhir/sid/cvx"


@pytest.fixture(scope="module")
def world(make_app: Callable[..., Flask]) -> World:
    return World(make_app(auth_required=True))


def _dose(given: str, code: str = "208") -> dict[str, Any]:
    return {"resourceType": "Immunization", "status": "completed",
            "vaccineCode": {"coding": [{"system": CVX, "code": code}]},
            "patient": {"reference": "Patient/p1"}, "occurrenceDateTime": given}


def _forecast(world: World, assessed: str, *doses: dict[str, Any]) -> dict[str, Any]:
    patient: dict[str, Any] = {"resourceType": "Patient", **({"id": "p1"} if doses else {})}
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "assessmentDate", "valueDate": assessed},
        {"name": "patient", "resource": patient},
        *({"name": "immunization", "resource": d} for d in doses)]}
    answer = world.app.test_client().post("/$immds-forecast", json=body,
                                          headers={**FHIR, **world.tokens["practitioner"]})
    assert answer.status_code == 200, answer.get_json()
    parameter = answer.get_json()["parameter"][0]
    assert parameter["name"] == "recommendation"
    return dict(parameter["resource"]["recommendation"][0])


def _dates(entry: dict[str, Any]) -> dict[str, str]:
    return {c["code"]["coding"][0]["code"]: c["value"] for c in entry["dateCriterion"]}


def test_forecast_from_the_vaccine_schedule(world: World) -> None:
    """Pfizer-BioNTech (CVX 208): 2 doses, 21-28 days apart (vn-covid19-vaccine CodeSystem)."""
    due = _forecast(world, "2021-09-10", _dose("2021-09-01"))
    assert due["forecastStatus"]["coding"][0]["code"] == "due"
    assert due["doseNumberPositiveInt"] == 2
    assert _dates(due) == {"30981-5": "2021-09-22", "30980-7": "2021-09-22",
                           "59777-3": "2021-09-29"}
    late = _forecast(world, "2021-10-15", _dose("2021-09-01"))
    assert late["forecastStatus"]["coding"][0]["code"] == "overdue"
    done = _forecast(world, "2021-10-15", _dose("2021-09-01"), _dose("2021-09-25"))
    assert done["forecastStatus"]["coding"][0]["code"] == "complete"
    none = _forecast(world, "2021-10-15")
    assert none["forecastStatus"]["coding"][0]["code"] == "due"  # the first dose


def test_a_stored_patients_forecast_is_for_who_may_read_it(world: World) -> None:
    web = world.app.test_client()
    own = web.get(f"/Patient/{world.a['patient']}/$immds-forecast?assessmentDate=2021-09-20",
                  headers=world.tokens["A"])
    assert own.status_code == 200, own.get_json()
    entry = own.get_json()["parameter"][0]["resource"]["recommendation"][0]
    assert entry["supportingImmunization"] == [{"reference": f"Immunization/{world.imm['a']}"}]
    other = web.get(f"/Patient/{world.b['patient']}/$immds-forecast", headers=world.tokens["A"])
    assert other.status_code == 404
    bad = web.get(f"/Patient/{world.a['patient']}/$immds-forecast?assessmentDate=soon",
                  headers=world.tokens["A"])
    assert bad.status_code == 400 and bad.get_json()["issue"][0]["expression"] == [
        "assessmentDate"]


def test_confirm_and_dispute_own_doses_only(world: World) -> None:
    web = world.app.test_client()
    headers = {**FHIR, **world.tokens["A"]}
    confirmed = web.post(f"/Immunization/{world.imm['a']}/$confirm", headers=headers, json={})
    assert confirmed.status_code == 201, confirmed.get_json()
    provenance = confirmed.get_json()
    assert provenance["target"] == [{"reference": f"Immunization/{world.imm['a']}"}]
    assert provenance["agent"][0]["who"] == {"reference": f"Patient/{world.a['patient']}"}
    reason = {"resourceType": "Parameters",
              "parameter": [{"name": "reason", "valueString": "Tôi chưa tiêm mũi này"}]}
    disputed = web.post(f"/Immunization/{world.imm['f']}/$dispute", headers=headers, json=reason)
    assert disputed.status_code == 201, disputed.get_json()  # a family member's dose
    flag = disputed.get_json()
    assert flag["status"] == "active" and "chưa tiêm" in flag["code"]["text"]
    assert flag["extension"][0]["valueReference"] == {"reference":
                                                      f"Immunization/{world.imm['f']}"}
    site = web.get("/Flag?status=active", headers=world.tokens["practitioner"]).get_json()
    assert flag["id"] in {e["resource"].get("id") for e in site["entry"]}
    for op in ("$confirm", "$dispute"):
        foreign = web.post(f"/Immunization/{world.imm['b']}/{op}", headers=headers, json=reason)
        assert foreign.status_code == 404, op
    empty = web.post(f"/Immunization/{world.imm['a']}/$dispute", headers=headers, json={})
    assert empty.status_code == 400 and empty.get_json()["issue"][0]["expression"] == ["reason"]
