"""Small helpers shared by the API tests."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient

FHIR_JSON = "application/fhir+json"


def patient(family: str = "Nguyễn", **extra: Any) -> dict[str, Any]:
    """A minimal valid Patient with a unique identifier."""
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:test:mrn", "value": uuid.uuid4().hex}],
        "name": [{"family": family, "given": ["Văn", "An"]}],
        "gender": "male",
        "birthDate": "1985-03-12",
    }
    resource.update(extra)
    return resource


def post(client: FlaskClient, resource: dict[str, Any], **headers: str) -> Any:
    """POST a resource to its type endpoint."""
    return client.post(f"/{resource['resourceType']}", json=resource,
                       headers={"Content-Type": FHIR_JSON, **headers})


def put(client: FlaskClient, resource: dict[str, Any], **headers: str) -> Any:
    """PUT a resource to its instance URL."""
    return client.put(f"/{resource['resourceType']}/{resource['id']}", json=resource,
                      headers={"Content-Type": FHIR_JSON, **headers})


def created_id(response: Any) -> str:
    """The id of a resource a create answered with."""
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def issue(response: Any) -> dict[str, Any]:
    """The first OperationOutcome issue of an error response."""
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome", body
    return dict(body["issue"][0])
