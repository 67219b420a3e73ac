"""Batches: POST [base] with Bundle.type batch — each entry on its own (FHIR R4
http.html#transaction, "Batch Processing Rules"; http.html#transaction-response)."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient

from tests.api.helpers import created_id, patient, post
from tests.api.test_transaction import bundle, entry, immunization, send, urn


# batch rules: a failing entry does not stop the others; HTTP 200 with a batch-response whose
# entries carry each status (and an OperationOutcome for failures), in request order
def test_entries_succeed_or_fail_independently(client: FlaskClient) -> None:
    mrn = uuid.uuid4().hex
    good = patient(identifier=[{"system": "urn:test:mrn", "value": mrn}])
    existing = created_id(post(client, patient()))
    response = send(client, bundle(
        entry("POST", "Patient", good),
        entry("POST", "Patient", patient(gender="robot")),
        entry("PUT", f"Patient/{existing}", {**patient(), "id": existing, "gender": "other"}),
        entry("GET", f"Patient/{uuid.uuid4().hex}"),
        entry("POST", "MedicinalProduct", {"resourceType": "MedicinalProduct"}),  # not stored
        kind="batch"))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["type"] == "batch-response"
    statuses = [e["response"]["status"] for e in body["entry"]]
    assert statuses == ["201 Created", "400 Bad Request", "200 OK", "404 Not Found",
                        "400 Bad Request"]
    invalid = body["entry"][1]["response"]["outcome"]["issue"][0]
    assert invalid["expression"][0].startswith("Bundle.entry[1].resource.gender")
    unsupported = body["entry"][4]["response"]["outcome"]["issue"][0]
    assert unsupported["expression"] == ["Bundle.entry[4].request.url"]
    found = client.get(f"/Patient?identifier=urn:test:mrn|{mrn}").get_json()
    assert found["total"] == 1
    assert client.get(f"/Patient/{existing}").get_json()["gender"] == "other"


# batch rules: references between batch entries are non-conformant -> that entry fails
def test_batch_entries_may_not_reference_each_other(client: FlaskClient) -> None:
    pat = urn()
    response = send(client, bundle(entry("POST", "Patient", patient(), pat),
                                   entry("POST", "Immunization", immunization(pat)),
                                   kind="batch"))
    assert response.status_code == 200
    first, second = response.get_json()["entry"]
    assert first["response"]["status"] == "201 Created"
    assert second["response"]["status"] == "400 Bad Request"
    assert "transaction" in second["response"]["outcome"]["issue"][0]["diagnostics"]


# http.html#ccreate, #cond-update and conditional references inside a batch
def test_conditional_entries_in_batch(client: FlaskClient) -> None:
    mrn = uuid.uuid4().hex
    ident = [{"system": "urn:test:mrn", "value": mrn}]
    the_id = created_id(post(client, patient(identifier=ident)))
    response = send(client, bundle(
        entry("POST", "Patient", patient(identifier=ident),
              ifNoneExist=f"identifier=urn:test:mrn|{mrn}"),
        entry("PUT", f"Patient?identifier=urn:test:mrn|{mrn}",
              patient(identifier=ident, gender="female")),
        entry("POST", "Immunization", immunization(f"Patient?identifier=urn:test:mrn|{mrn}")),
        kind="batch"))
    assert response.status_code == 200
    found, updated, shot = response.get_json()["entry"]
    assert found["response"]["status"] == "200 OK"
    assert updated["resource"]["id"] == the_id
    assert shot["resource"]["patient"]["reference"] == f"Patient/{the_id}"


# batch rules: malformed entries fail alone (the Bundle itself is fine)
def test_malformed_entry_in_batch(client: FlaskClient) -> None:
    response = send(client, bundle({"request": {"method": "POST", "url": "Patient"}},
                                   entry("POST", "Patient", patient()), kind="batch"))
    assert response.status_code == 200
    bad, good = response.get_json()["entry"]
    assert bad["response"]["status"] == "400 Bad Request"
    assert bad["response"]["outcome"]["issue"][0]["expression"] == ["Bundle.entry[0].resource"]
    assert good["response"]["status"] == "201 Created"
