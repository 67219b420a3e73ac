"""Profile rules enforced through the REST API: a create breaking a rule of a claimed profile
gets 422 with the issue (warnings are accepted and reported with Prefer: return=
OperationOutcome, FHIR R4 http.html#return), and $validate reports the same issue with 200
(operation-resource-validate.html). A rejected resource is not stored."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.validation.test_profile_fixtures import EXAMPLES, changed
from tests.validation.test_profile_rules import VIOLATIONS, Violation, matching

FHIR_JSON = {"Content-Type": "application/fhir+json"}


@pytest.mark.parametrize("violation", VIOLATIONS, ids=[v.rule for v in VIOLATIONS])
def test_create_is_rejected_or_warned(client: FlaskClient, violation: Violation) -> None:
    resource = violation.resource()
    response = client.post(f"/{resource['resourceType']}", json=resource,
                           headers={**FHIR_JSON, "Prefer": "return=OperationOutcome"})
    body = response.get_json()
    if violation.severity == "error":
        assert response.status_code == 422, body
    else:
        assert response.status_code == 201, body
    assert body["resourceType"] == "OperationOutcome"
    assert matching(body["issue"], violation), body


@pytest.mark.parametrize("violation", VIOLATIONS, ids=[v.rule for v in VIOLATIONS])
def test_validate_reports(client: FlaskClient, violation: Violation) -> None:
    resource = violation.resource()
    response = client.post(f"/{resource['resourceType']}/$validate", json=resource,
                           headers=FHIR_JSON)
    assert response.status_code == 200
    assert matching(response.get_json()["issue"], violation), response.get_json()


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_conformant_examples_are_stored(fresh_client: FlaskClient, name: str) -> None:
    """Each on its own database: the examples carry fixed national identifiers, which name
    one Patient per database (409 once another test stored the same example)."""
    resource = EXAMPLES[name]()
    response = fresh_client.post(f"/{resource['resourceType']}", json=resource, headers=FHIR_JSON)
    assert response.status_code == 201, response.get_json()


def test_rejected_resource_is_not_stored(client: FlaskClient) -> None:
    marker = uuid.uuid4().hex
    resource = changed("patient", lambda r: r["identifier"].append(
        {"system": "urn:test:marker", "value": marker}) or r.pop("gender"))
    assert client.post("/Patient", json=resource, headers=FHIR_JSON).status_code == 422
    resource["id"] = f"rejected-{marker[:8]}"
    assert client.put(f"/Patient/{resource['id']}", json=resource,
                      headers=FHIR_JSON).status_code == 422
    assert client.get(f"/Patient/{resource['id']}").status_code == 404
    found = client.get(f"/Patient?identifier=urn:test:marker|{marker}").get_json()
    assert found.get("total", len(found.get("entry", []))) == 0


def test_unknown_profile_is_rejected_precisely(client: FlaskClient) -> None:
    resource = changed("patient", lambda r: r["meta"].update(profile=[
        "https://example.org/fhir/StructureDefinition/unknown"]))
    response = client.post("/Patient", json=resource, headers=FHIR_JSON)
    assert response.status_code == 422
    issue: dict[str, Any] = response.get_json()["issue"][0]
    assert (issue["severity"], issue["code"], issue["expression"]) == (
        "error", "not-found", ["Patient.meta.profile[0]"])


def test_required_profiles_setting(make_app: Any) -> None:
    strict = make_app(required_profiles=("Patient",)).test_client()
    plain = changed("patient", lambda r: r.pop("meta"))
    response = strict.post("/Patient", json=plain, headers=FHIR_JSON)
    assert response.status_code == 422
    assert response.get_json()["issue"][0]["expression"] == ["Patient.meta.profile"]
    claimed = EXAMPLES["patient"]()
    assert strict.post("/Patient", json=claimed, headers=FHIR_JSON).status_code == 201
    organization = {"resourceType": "Organization", "name": "Trạm Y tế phường Ba Đình"}
    assert strict.post("/Organization", json=organization, headers=FHIR_JSON).status_code == 201
