"""The fhirVersion media-type parameter (FHIR R4 http.html#version-parameter)."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.api.helpers import FHIR_JSON, created_id, issue, patient, post


def test_accept_fhir_version_4_0_is_served(client: FlaskClient) -> None:
    """http.html#version-parameter: `application/fhir+json; fhirVersion=4.0` names R4, which
    this server speaks; a list naming R3 and R4 is served as R4."""
    url = f"/Patient/{created_id(post(client, patient()))}"
    for accept in (f"{FHIR_JSON}; fhirVersion=4.0", f"{FHIR_JSON};fhirVersion=\"4.0\"",
                   f"{FHIR_JSON}; fhirVersion=3.0, {FHIR_JSON}; fhirVersion=4.0"):
        response = client.get(url, headers={"Accept": accept})
        assert response.status_code == 200, accept
        assert response.get_json()["resourceType"] == "Patient"
    assert client.get(url, query_string={"_format": f"{FHIR_JSON}; fhirVersion=4.0"}
                      ).status_code == 200


def test_accept_other_fhir_version_is_406(client: FlaskClient) -> None:
    """http.html#version-parameter: a server that cannot produce the asked fhirVersion answers
    406 Not Acceptable (an OperationOutcome with code not-supported)."""
    url = f"/Patient/{created_id(post(client, patient()))}"
    for version in ("3.0", "1.0", "5.0", "4.3", "banana"):
        response = client.get(url, headers={"Accept": f"{FHIR_JSON}; fhirVersion={version}"})
        assert response.status_code == 406, version
        found = issue(response)
        assert found["code"] == "not-supported" and version in found["diagnostics"]
    assert client.get(url, query_string={"_format": f"{FHIR_JSON}; fhirVersion=3.0"}
                      ).status_code == 406
    assert client.get("/Patient", headers={"Accept": f"{FHIR_JSON}; fhirVersion=3.0"}
                      ).status_code == 406


def test_content_type_other_fhir_version_is_415(client: FlaskClient) -> None:
    """http.html#version-parameter: a body in another FHIR version is refused with 415
    Unsupported Media Type, and nothing is stored; fhirVersion=4.0 is accepted."""
    marker = patient()
    refused = client.post("/Patient", json=marker,
                          headers={"Content-Type": f"{FHIR_JSON}; fhirVersion=3.0"})
    assert refused.status_code == 415
    assert issue(refused)["code"] == "not-supported"
    value = marker["identifier"][0]["value"]
    assert client.get(f"/Patient?identifier=urn:test:mrn|{value}").get_json().get("total") == 0
    accepted = client.post("/Patient", json=marker,
                           headers={"Content-Type": f"{FHIR_JSON}; fhirVersion=4.0"})
    assert accepted.status_code == 201
