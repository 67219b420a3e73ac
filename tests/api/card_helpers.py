"""Test helpers for health cards over HTTP: a verified, vaccinated Patient and its card."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.api.helpers import FHIR_JSON, created_id, patient, post
from tests.conftest import BASE_URL

CREDENTIAL = {"resourceType": "Parameters", "parameter": [
    {"name": "credentialType", "valueUri": "https://smarthealth.cards#immunization"}]}


def verified_patient(client: FlaskClient, **fields: Any) -> str:
    """A new Patient whose identity a site verified (issue 12, point 9: cards need it)."""
    patient_id = created_id(post(client, patient(**fields)))
    response = client.post(f"/Patient/{patient_id}/$verify-identity",
                           json={"resourceType": "Parameters"},
                           headers={"Content-Type": FHIR_JSON})
    assert response.status_code == 200, response.get_json()
    return patient_id


def vaccinated_patient(client: FlaskClient, doses: int = 2, code: str = "210",
                       lot: str = "LOT", **fields: Any) -> str:
    """A verified Patient with completed doses (CVX code, 2021-08-02, 2021-09-02, ...)."""
    patient_id = verified_patient(client, **fields)
    for number in range(1, doses + 1):
        assert post(client, {
            "resourceType": "Immunization", "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": code}]},
            "patient": {"reference": f"Patient/{patient_id}"},
            "occurrenceDateTime": f"2021-0{number + 7}-02", "lotNumber": f"{lot}{number}",
            "protocolApplied": [{"doseNumberPositiveInt": number}]}).status_code == 201
    return patient_id


def issue_card(client: FlaskClient, patient_id: str) -> tuple[str, bytes]:
    """$health-cards-issue for the Patient: the first card's shc:/ text and QR PNG."""
    issued = client.post(f"/Patient/{patient_id}/$health-cards-issue", json=CREDENTIAL,
                         headers={"Content-Type": FHIR_JSON})
    assert issued.status_code == 200, issued.get_json()
    png_url = issued.headers["Link"].split(">")[0].lstrip("<").removeprefix(BASE_URL)
    return client.get(png_url.replace(".png", ".txt")).get_data(as_text=True), \
        client.get(png_url).data
