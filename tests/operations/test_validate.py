"""$validate (FHIR R4 operation-resource-validate.html): the resource as body or in Parameters,
`profile` and `mode`; an OperationOutcome with 200 whatever the resource's issues ("All OK"
when none), 4xx only for malformed requests."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient

from tests.validation.test_profile_fixtures import VN_PATIENT, changed

FHIR_JSON = {"Content-Type": "application/fhir+json"}


def _validate(client: FlaskClient, url: str, body: Any) -> Any:
    return client.post(url, json=body, headers=FHIR_JSON)


def _parameters(resource: dict[str, Any] | None = None, **values: str) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [{"name": k, "valueString" if k == "profile" else
                                         "valueCode": v} for k, v in values.items()]
    if resource is not None:
        parameters.append({"name": "resource", "resource": resource})
    return {"resourceType": "Parameters", "parameter": parameters}


def test_all_ok(client: FlaskClient) -> None:
    body = _validate(client, "/Patient/$validate", changed("patient", lambda r: None))
    assert body.status_code == 200
    assert body.get_json()["issue"] == [
        {"severity": "information", "code": "informational", "diagnostics": "All OK"}]


def test_parameters_with_profile(client: FlaskClient) -> None:
    plain = changed("patient", lambda r: r.pop("meta") and r.pop("birthDate"))
    assert _validate(client, "/Patient/$validate", plain).get_json()["issue"][0][
        "severity"] == "information"
    body = _validate(client, "/Patient/$validate", _parameters(plain, profile=VN_PATIENT))
    issues = body.get_json()["issue"]
    assert [(i["code"], i["expression"]) for i in issues] == [
        ("required", ["Patient.birthDate"])]


def test_profile_in_the_query(client: FlaskClient) -> None:
    plain = changed("patient", lambda r: r.pop("meta") and r.pop("gender"))
    body = _validate(client, f"/Patient/$validate?profile={VN_PATIENT}", plain).get_json()
    assert [i["expression"] for i in body["issue"]] == [["Patient.gender"]]


def test_unknown_profile_parameter(client: FlaskClient) -> None:
    plain = changed("patient", lambda r: r.pop("meta"))
    body = _validate(client, "/Patient/$validate", _parameters(
        plain, profile="https://example.org/StructureDefinition/none")).get_json()
    [issue] = body["issue"]
    assert (issue["severity"], issue["code"], issue["expression"]) == (
        "error", "not-found", ["profile"])


def test_base_errors_are_reported_not_raised(client: FlaskClient) -> None:
    bad = changed("patient", lambda r: r.update(gender="nam"))
    response = _validate(client, "/Patient/$validate", bad)
    assert response.status_code == 200
    assert response.get_json()["issue"][0]["expression"] == ["Patient.gender"]
    wrong_type = _validate(client, "/Patient/$validate", {"resourceType": "Organization"})
    assert wrong_type.status_code == 200
    assert wrong_type.get_json()["issue"][0]["severity"] == "error"


def test_modes(client: FlaskClient) -> None:
    resource = changed("patient", lambda r: r.update(id=f"v-{uuid.uuid4().hex[:12]}"))
    the_id = resource["id"]
    created = _validate(client, "/Patient/$validate", _parameters(resource, mode="create"))
    assert created.get_json()["issue"][0]["severity"] == "information"
    same = _validate(client, f"/Patient/{the_id}/$validate", _parameters(resource, mode="update"))
    assert same.get_json()["issue"][0]["severity"] == "information"
    other = _validate(client, "/Patient/another-id/$validate", _parameters(resource,
                                                                            mode="update"))
    assert other.get_json()["issue"][0]["expression"] == ["Patient.id"]
    missing = _validate(client, f"/Patient/{the_id}/$validate", _parameters(mode="delete"))
    assert missing.get_json()["issue"][0]["code"] == "not-found"
    assert client.put(f"/Patient/{the_id}", json=resource, headers=FHIR_JSON).status_code == 201
    deletable = _validate(client, f"/Patient/{the_id}/$validate", _parameters(mode="delete"))
    assert deletable.get_json()["issue"][0]["severity"] == "information"


def test_malformed_requests(client: FlaskClient) -> None:
    resource = changed("patient", lambda r: None)
    assert _validate(client, "/Patient/$validate", _parameters(
        resource, mode="update")).status_code == 400
    assert _validate(client, "/Patient/$validate", _parameters(
        resource, mode="check")).status_code == 400
    assert _validate(client, "/Patient/$validate", _parameters()).status_code == 400
    assert client.get("/Patient/$validate").status_code == 405
    assert _validate(client, "/Spaceship/$validate", resource).status_code == 404


def test_listed_in_the_capability_statement(client: FlaskClient) -> None:
    rest = client.get("/metadata").get_json()["rest"][0]
    patient = next(r for r in rest["resource"] if r["type"] == "Patient")
    assert any(op["name"] == "validate" for op in patient.get("operation", []))
