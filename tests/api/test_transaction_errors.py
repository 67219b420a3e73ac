"""Bad transactions fail as a whole with an OperationOutcome naming the entry, and nothing of
them is stored (FHIR R4 http.html#transaction: "If any resource ... fails, the entire set of
changes SHALL fail"; bundle.html#bundle-unique (bdl-7) and bundle.html#references)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.api.helpers import created_id, patient, post
from tests.api.test_transaction import bundle, entry, immunization, send, urn


def _marked() -> tuple[str, dict[str, Any]]:
    """A patient with a unique identifier, and that identifier's search value."""
    mrn = uuid.uuid4().hex
    return mrn, patient(identifier=[{"system": "urn:test:mrn", "value": mrn}])


def _stored(client: FlaskClient, mrn: str) -> int:
    found = client.get(f"/Patient?identifier=urn:test:mrn|{mrn}").get_json()
    return int(found["total"])


def _issue(response: Any) -> dict[str, Any]:
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome", body
    return dict(body["issue"][0])


# bundle.html#references: a placeholder naming no entry is a broken reference
def test_broken_reference(client: FlaskClient) -> None:
    mrn, person = _marked()
    response = send(client, bundle(entry("POST", "Patient", person, urn()),
                                   entry("POST", "Immunization", immunization(urn()))))
    assert response.status_code == 400
    issue = _issue(response)
    assert issue["expression"] == ["Bundle.entry[1].resource.patient.reference"]
    assert "broken reference" in issue["diagnostics"]
    assert _stored(client, mrn) == 0


# bundle.html#bundle-unique (bdl-7): fullUrls are unique
def test_duplicate_full_urls(client: FlaskClient) -> None:
    mrn, person = _marked()
    same = urn()
    response = send(client, bundle(entry("POST", "Patient", person, same),
                                   entry("POST", "Patient", patient(), same)))
    assert response.status_code == 400
    assert _issue(response)["expression"] == ["Bundle.entry[1].fullUrl"]
    assert _stored(client, mrn) == 0


# http.html#transaction: an entry of a type the server does not support fails the transaction
def test_unsupported_type(client: FlaskClient) -> None:
    mrn, person = _marked()
    product = {"resourceType": "MedicinalProduct"}  # R4, not stored: R4B has no model for it
    response = send(client, bundle(entry("POST", "Patient", person),
                                   entry("POST", "MedicinalProduct", product)))
    assert response.status_code == 400
    issue = _issue(response)
    assert issue["code"] == "not-supported"
    assert issue["expression"] == ["Bundle.entry[1].request.url"]
    assert _stored(client, mrn) == 0


# http.html#transaction + validation: an invalid resource names its entry and element; the
# writes already done in the same transaction are rolled back
def test_invalid_resource_rolls_back(client: FlaskClient) -> None:
    mrn, person = _marked()
    response = send(client, bundle(entry("POST", "Patient", person),
                                   entry("POST", "Patient", patient(gender="robot"))))
    assert response.status_code == 400
    issue = _issue(response)
    assert issue["expression"][0].startswith("Bundle.entry[1].resource.gender")
    assert _stored(client, mrn) == 0


# http.html#concurrency: a failed precondition after other writes rolls them back (412)
def test_failed_if_match_rolls_back(client: FlaskClient) -> None:
    mrn, person = _marked()
    the_id = created_id(post(client, patient()))
    response = send(client, bundle(entry("POST", "Patient", person),
                                   entry("PUT", f"Patient/{the_id}",
                                         {**patient(), "id": the_id}, ifMatch='W/"9"')))
    assert response.status_code == 412
    assert _issue(response)["expression"][0].startswith("Bundle.entry[1]")
    assert _stored(client, mrn) == 0
    assert client.get(f"/Patient/{the_id}").headers["ETag"] == 'W/"1"'


# http.html#trules: resource identities may not overlap within a transaction
def test_overlapping_identities(client: FlaskClient) -> None:
    the_id = created_id(post(client, patient()))
    response = send(client, bundle(entry("PUT", f"Patient/{the_id}", {**patient(), "id": the_id}),
                                   entry("DELETE", f"Patient/{the_id}")))
    assert response.status_code == 400
    assert "overlap" in _issue(response)["diagnostics"]
    assert client.get(f"/Patient/{the_id}").status_code == 200


# bundle.html#references: a conditional reference must match exactly one resource
def test_conditional_reference_without_match(client: FlaskClient) -> None:
    mrn, person = _marked()
    response = send(client, bundle(
        entry("POST", "Patient", person),
        entry("POST", "Immunization",
              immunization(f"Patient?identifier=urn:test:mrn|{uuid.uuid4().hex}"))))
    assert response.status_code == 400
    assert _issue(response)["expression"] == ["Bundle.entry[1].resource.patient.reference"]
    assert _stored(client, mrn) == 0


def test_conditional_reference_with_many_matches(client: FlaskClient) -> None:
    mrn, person = _marked()
    post(client, person)
    post(client, person)
    response = send(client, bundle(entry("POST", "Immunization", immunization(
        f"Patient?identifier=urn:test:mrn|{mrn}"))))
    assert response.status_code == 412


# http.html#transaction: a failing read fails the transaction too
def test_failing_get_fails_transaction(client: FlaskClient) -> None:
    mrn, person = _marked()
    response = send(client, bundle(entry("POST", "Patient", person),
                                   entry("GET", f"Patient/{uuid.uuid4().hex}")))
    assert response.status_code == 404
    assert _stored(client, mrn) == 0


@pytest.mark.parametrize(("body", "expression"), [
    ({"resourceType": "Patient"}, "Bundle"),
    ({"resourceType": "Bundle", "type": "collection"}, "Bundle.type"),
    ({"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": patient()}]},
     "Bundle.entry[0].request"),
    ({"resourceType": "Bundle", "type": "transaction",
      "entry": [{"request": {"method": "FETCH", "url": "Patient"}}]},
     "Bundle.entry[0].request.method"),
    ({"resourceType": "Bundle", "type": "transaction",
      "entry": [{"request": {"method": "POST", "url": "Patient"}, "resource":
                 {"resourceType": "Immunization"}}]}, "Bundle.entry[0].resource.resourceType"),
    ({"resourceType": "Bundle", "type": "transaction",
      "entry": [{"request": {"method": "POST", "url": "Patient/$everything/x"},
                 "resource": patient()}]}, "Bundle.entry[0].request.url"),
    ({"resourceType": "Bundle", "type": "transaction",  # an operation is GET or POST
      "entry": [{"request": {"method": "PUT", "url": "Patient/1/$everything"},
                 "resource": patient()}]}, "Bundle.entry[0].request.url"),
])
# bundle.html#Bundle.entry.request: malformed Bundles are rejected before anything runs
def test_malformed_bundles(client: FlaskClient, body: dict[str, Any], expression: str) -> None:
    response = send(client, body)
    assert response.status_code == 400
    assert _issue(response)["expression"] == [expression]


# http.html#transaction needs atomicity: without database transactions (FHIR_USE_TRANSACTIONS=0,
# e.g. a standalone mongod) transactions are refused, batches still work
def test_transactions_disabled(make_app: Any) -> None:
    client = make_app(use_transactions=False).test_client()
    refused = send(client, bundle(entry("POST", "Patient", patient())))
    assert refused.status_code == 501
    batch = send(client, bundle(entry("POST", "Patient", patient()), kind="batch"))
    assert batch.status_code == 200
