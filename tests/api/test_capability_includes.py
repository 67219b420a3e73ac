"""CapabilityStatement searchInclude / searchRevInclude (FHIR R4
capabilitystatement-definitions.html#CapabilityStatement.rest.resource.searchInclude)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient


def _resource(statement: dict[str, Any], type_name: str) -> dict[str, Any]:
    return next(r for r in statement["rest"][0]["resource"] if r["type"] == type_name)


def test_includes_are_listed_and_work(client: FlaskClient) -> None:
    """capabilitystatement.html: searchInclude lists the _include values supported for a type
    and searchRevInclude the _revinclude values; each listed value is accepted by a search
    (search.html#include), e.g. Immunization:patient and, on Patient, the reverse."""
    statement = client.get("/metadata").get_json()
    immunization = _resource(statement, "Immunization")
    assert "Immunization:patient" in immunization["searchInclude"]
    patient = _resource(statement, "Patient")
    assert "Immunization:patient" in patient["searchRevInclude"]
    assert "Patient:organization" in patient["searchInclude"]
    for value in immunization["searchInclude"]:
        response = client.get("/Immunization", query_string={"_include": value, "_count": 1})
        assert response.status_code == 200, (value, response.get_json())
    for value in patient["searchRevInclude"][:40]:
        response = client.get("/Patient", query_string={"_revinclude": value, "_count": 1})
        assert response.status_code == 200, (value, response.get_json())
