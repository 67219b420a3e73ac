"""Invalid resources: clear OperationOutcomes with expression paths, nothing stored.

FHIR R4 http.html#create ("400 Bad Request - resource could not be parsed or failed basic FHIR
validation rules"), json.html (no nulls or empty values).
"""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.api.helpers import FHIR_JSON, issue, patient


def _create(client: FlaskClient, body: object, type_name: str = "Patient") -> object:
    return client.post(f"/{type_name}", json=body, headers={"Content-Type": FHIR_JSON})


def _total(client: FlaskClient) -> int:
    return int(client.get("/Patient/_history?_count=0").get_json()["total"])


def test_invalid_resources_rejected_and_not_stored(client: FlaskClient) -> None:
    before = _total(client)
    cases = [
        (patient(birthDate="1985-02-30"), "Patient.birthDate"),
        (patient(gender="robot"), "Patient.gender"),
        (patient(unknownElement=1), "Patient.unknownElement"),
        (patient(name=[{"family": None}]), "Patient.name[0].family"),
        (patient(name=[{"family": ""}]), "Patient.name[0].family"),
        (patient(telecom=[]), "Patient.telecom"),
        (patient(managingOrganization={"reference": "Patient/123"}),
         "Patient.managingOrganization"),
        ({"resourceType": "Observation", "status": "final"}, "resourceType"),
        ({"name": [{"family": "x"}]}, "resourceType"),
    ]
    for body, expression in cases:
        response = _create(client, body)
        assert response.status_code == 400, body
        expressions = [e for i in response.get_json()["issue"] for e in i.get("expression", [])]
        assert any(e.startswith(expression) for e in expressions), (body, expressions)
    assert _total(client) == before


def test_body_must_be_an_object(client: FlaskClient) -> None:
    for body in ([], "Patient", 42):
        response = _create(client, body)
        assert response.status_code == 400
        assert issue(response)["code"] == "structure"


def test_unsupported_type_in_body(client: FlaskClient) -> None:
    response = client.post("/Patient", json={"resourceType": "Spaceship"},
                           headers={"Content-Type": FHIR_JSON})
    assert response.status_code == 400
    assert issue(response)["expression"] == ["resourceType"]


def test_required_status_and_reference_target(client: FlaskClient) -> None:
    bad_status = {"resourceType": "Immunization", "status": "finished",
                  "vaccineCode": {"text": "AZ"}, "patient": {"reference": "Patient/x"},
                  "occurrenceDateTime": "2021-08-02"}
    response = _create(client, bad_status, "Immunization")
    assert response.status_code == 400
    assert issue(response)["expression"] == ["Immunization.status"]
    wrong_target = {**bad_status, "status": "completed",
                    "patient": {"reference": "Organization/x"}}
    response = _create(client, wrong_target, "Immunization")
    assert response.status_code == 400
    assert issue(response)["expression"][0].startswith("Immunization.patient")
