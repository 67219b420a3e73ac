"""405 Method Not Allowed with an Allow header and an OperationOutcome (FHIR R4 http.html#general
"405 Method Not Allowed"; RFC 9110 §15.5.6: a 405 MUST carry Allow)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.api.helpers import created_id, issue, patient, post

CASES = [
    ("DELETE", "/metadata", {"GET"}), ("PUT", "/metadata", {"GET"}),
    ("POST", "/metadata", {"GET"}), ("PATCH", "/metadata", {"GET"}),
    ("PUT", "/Patient", {"GET", "POST"}), ("DELETE", "/Patient", {"GET", "POST"}),
    ("PATCH", "/Patient", {"GET", "POST"}),
    ("POST", "/Patient/{id}", {"GET", "PUT", "PATCH", "DELETE"}),
    ("POST", "/Patient/{id}/_history", {"GET"}), ("PUT", "/Patient/{id}/_history/1", {"GET"}),
    ("DELETE", "/Patient/_history", {"GET"}), ("POST", "/Patient/_history", {"GET"}),
    ("PUT", "/_history", {"GET"}), ("GET", "/Patient/_search", {"POST"}),
    ("PUT", "/Patient/_search", {"POST"}), ("DELETE", "/", {"GET", "POST"}),
    ("PUT", "/Patient/{id}/Observation", {"GET"}), ("DELETE", "/Patient/$validate", {"POST"}),
    ("POST", "/healthz", {"GET"}),
]


@pytest.mark.parametrize(("method", "path", "allowed"), CASES)
def test_unsupported_method_is_405_with_allow(client: FlaskClient, method: str, path: str,
                                              allowed: set[str]) -> None:
    """http.html#general: a method the URL does not support is 405 (not 400/404, nor another
    route's interaction: PUT /Patient without criteria is no conditional update, GET
    /Patient/_search is no read of id '_search'); Allow lists what is, and the body is an
    OperationOutcome with code not-supported."""
    the_id = created_id(post(client, patient()))
    response = client.open(path.format(id=the_id), method=method, json={"resourceType": "X"})
    assert response.status_code == 405, response.get_data()
    listed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed <= listed and method not in listed
    assert response.headers["Content-Type"].startswith("application/fhir+json")
    assert issue(response)["code"] == "not-supported"


def test_405_changes_nothing(client: FlaskClient) -> None:
    """A refused PUT /Patient (no criteria) creates nothing; with criteria it is a conditional
    update (http.html#cond-update) as before."""
    marker = patient()
    value = marker["identifier"][0]["value"]
    assert client.put("/Patient", json=marker).status_code == 405
    query = f"identifier=urn:test:mrn|{value}"
    assert client.get(f"/Patient?{query}").get_json()["total"] == 0
    assert client.put(f"/Patient?{query}", json=marker,
                      headers={"Content-Type": "application/fhir+json"}).status_code == 201
