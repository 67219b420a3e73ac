"""Transactions over HTTP: POST [base] with Bundle.type transaction (FHIR R4 http.html#transaction,
#trules, bundle.html#references)."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from flask.testing import FlaskClient

from tests.api.helpers import FHIR_JSON, created_id, patient, post


def bundle(*entries: dict[str, Any], kind: str = "transaction") -> dict[str, Any]:
    """A Bundle of the given entries."""
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def entry(method: str, url: str, resource: dict[str, Any] | None = None,
          full_url: str | None = None, **request: str) -> dict[str, Any]:
    """One Bundle entry."""
    out: dict[str, Any] = {"request": {"method": method, "url": url, **request}}
    if resource is not None:
        out["resource"] = resource
    if full_url is not None:
        out["fullUrl"] = full_url
    return out


def urn() -> str:
    """A fresh urn:uuid placeholder."""
    return f"urn:uuid:{uuid.uuid4()}"


def immunization(patient_ref: str, **extra: Any) -> dict[str, Any]:
    """A minimal valid Immunization for a patient reference."""
    return {"resourceType": "Immunization", "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "208"}]},
            "patient": {"reference": patient_ref}, "occurrenceDateTime": "2021-07-01",
            **extra}


def send(client: FlaskClient, body: dict[str, Any], **headers: str) -> Any:
    """POST a Bundle to the base."""
    return client.post("/", data=json.dumps(body),
                       headers={"Content-Type": FHIR_JSON, **headers})


# http.html#transaction-response: transaction-response, one entry per request entry, in order,
# with status, location, etag and lastModified; placeholders resolved (bundle.html#references)
def test_transaction_creates_and_resolves_placeholders(client: FlaskClient) -> None:
    pat = urn()
    response = send(client, bundle(entry("POST", "Immunization", immunization(pat)),
                                   entry("POST", "Patient", patient(), pat)))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["type"] == "transaction-response"
    first, second = body["entry"]
    assert first["response"]["status"] == "201 Created"
    assert second["response"]["status"] == "201 Created"
    patient_id = second["resource"]["id"]
    assert first["resource"]["patient"]["reference"] == f"Patient/{patient_id}"
    assert first["response"]["location"].startswith("Immunization/")
    assert first["response"]["location"].endswith("/_history/1")
    assert first["response"]["etag"] == 'W/"1"'
    assert "lastModified" in first["response"]
    assert second["fullUrl"] == f"https://fhir.test/fhir/Patient/{patient_id}"
    stored = client.get(first["response"]["location"].split("/_history")[0]).get_json()
    assert stored["patient"]["reference"] == f"Patient/{patient_id}"


# bundle.html#references: placeholders inside nested elements, contained resources, extensions
# and narrative links are replaced too; urn:oid works like urn:uuid
def test_placeholders_resolved_everywhere(client: FlaskClient) -> None:
    pat, org = urn(), "urn:oid:1.2.3.4.5"
    person = patient(managingOrganization={"reference": org},
                     text={"status": "generated",
                           "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><a href="{org}">'
                                  "Clinic</a></div>"},
                     contact=[{"organization": {"reference": org}}],
                     extension=[{"url": "http://example.org/x", "valueReference":
                                 {"reference": org}}])
    clinic = {"resourceType": "Organization", "name": "Trạm y tế"}
    response = send(client, bundle(entry("POST", "Patient", person, pat),
                                   entry("POST", "Organization", clinic, org)))
    assert response.status_code == 200, response.get_json()
    created = response.get_json()["entry"]
    org_ref = f"Organization/{created[1]['resource']['id']}"
    stored = created[0]["resource"]
    assert stored["managingOrganization"]["reference"] == org_ref
    assert stored["contact"][0]["organization"]["reference"] == org_ref
    assert stored["extension"][0]["valueReference"]["reference"] == org_ref
    assert f'href="{org_ref}"' in stored["text"]["div"]


# http.html#trules: circular references between resources of the same transaction resolve
def test_circular_references(client: FlaskClient) -> None:
    a, b = urn(), urn()
    first = patient(link=[{"other": {"reference": b}, "type": "seealso"}])
    second = patient(link=[{"other": {"reference": a}, "type": "seealso"}])
    response = send(client, bundle(entry("POST", "Patient", first, a),
                                   entry("POST", "Patient", second, b)))
    assert response.status_code == 200, response.get_json()
    one, two = (e["resource"] for e in response.get_json()["entry"])
    assert one["link"][0]["other"]["reference"] == f"Patient/{two['id']}"
    assert two["link"][0]["other"]["reference"] == f"Patient/{one['id']}"


# http.html#trules: DELETE, then POST, then PUT/PATCH, then GET — whatever the entry order
def test_processing_order(client: FlaskClient) -> None:
    doomed = created_id(post(client, patient()))
    kept = created_id(post(client, patient()))
    new = urn()
    response = send(client, bundle(
        entry("GET", f"Patient/{kept}"),
        entry("PUT", f"Patient/{kept}", {**patient(), "id": kept, "gender": "female"}),
        entry("POST", "Patient", patient(), new),
        entry("DELETE", f"Patient/{doomed}")))
    assert response.status_code == 200, response.get_json()
    read, put, created, deleted = response.get_json()["entry"]
    assert read["resource"]["gender"] == "female"  # the GET ran after the PUT
    assert read["response"]["etag"] == 'W/"2"'
    assert put["response"]["status"] == "200 OK"
    assert created["response"]["status"] == "201 Created"
    assert deleted["response"]["status"] == "200 OK"
    assert client.get(f"/Patient/{doomed}").status_code == 410


# http.html#ccreate in a transaction: ifNoneExist finds the existing resource (200, no write) and
# references to the entry's fullUrl point at it
def test_conditional_create_in_transaction(client: FlaskClient) -> None:
    mrn = uuid.uuid4().hex
    existing = created_id(post(client, patient(identifier=[{"system": "urn:test:mrn",
                                                            "value": mrn}])))
    pat = urn()
    response = send(client, bundle(
        entry("POST", "Patient", patient(identifier=[{"system": "urn:test:mrn", "value": mrn}]),
              pat, ifNoneExist=f"identifier=urn:test:mrn|{mrn}"),
        entry("POST", "Immunization", immunization(pat))))
    assert response.status_code == 200, response.get_json()
    found, shot = response.get_json()["entry"]
    assert found["response"]["status"] == "200 OK"
    assert found["resource"]["id"] == existing
    assert shot["resource"]["patient"]["reference"] == f"Patient/{existing}"


# http.html#cond-update and #cdelete inside a transaction (Type?criteria URLs)
def test_conditional_update_and_delete(client: FlaskClient) -> None:
    mrn, gone = uuid.uuid4().hex, uuid.uuid4().hex
    ident = [{"system": "urn:test:mrn", "value": mrn}]
    target = created_id(post(client, patient(identifier=ident)))
    victim = created_id(post(client, patient(identifier=[{"system": "urn:test:mrn",
                                                          "value": gone}])))
    response = send(client, bundle(
        entry("PUT", f"Patient?identifier=urn:test:mrn|{mrn}",
              patient(identifier=ident, gender="female")),
        entry("DELETE", f"Patient?identifier=urn:test:mrn|{gone}")))
    assert response.status_code == 200, response.get_json()
    updated, deleted = response.get_json()["entry"]
    assert updated["resource"]["id"] == target
    assert updated["response"]["etag"] == 'W/"2"'
    assert deleted["response"]["status"] == "200 OK"
    assert client.get(f"/Patient/{victim}").status_code == 410


# bundle.html#references (conditional references): Type?criteria inside a reference becomes the
# single matching resource
def test_conditional_reference(client: FlaskClient) -> None:
    mrn = uuid.uuid4().hex
    target = created_id(post(client, patient(identifier=[{"system": "urn:test:mrn",
                                                          "value": mrn}])))
    response = send(client, bundle(entry("POST", "Immunization", immunization(
        f"Patient?identifier=urn:test:mrn|{mrn}"))))
    assert response.status_code == 200, response.get_json()
    shot = response.get_json()["entry"][0]["resource"]
    assert shot["patient"]["reference"] == f"Patient/{target}"


# http.html#concurrency in a transaction: entry.request.ifMatch is a version check
def test_if_match_per_entry(client: FlaskClient) -> None:
    the_id = created_id(post(client, patient()))
    stale = send(client, bundle(entry("PUT", f"Patient/{the_id}", {**patient(), "id": the_id},
                                      ifMatch='W/"7"')))
    assert stale.status_code == 412
    issue = stale.get_json()["issue"][0]
    assert issue["expression"][0].startswith("Bundle.entry[0]")
    fresh = send(client, bundle(entry("PUT", f"Patient/{the_id}", {**patient(), "id": the_id},
                                      ifMatch='W/"1"')))
    assert fresh.status_code == 200
    assert fresh.get_json()["entry"][0]["response"]["etag"] == 'W/"2"'


# http.html#patch: PATCH entries carry a Binary with a JSON Patch
def test_patch_entry(client: FlaskClient) -> None:
    the_id = created_id(post(client, patient()))
    operations = [{"op": "replace", "path": "/gender", "value": "female"}]
    binary = {"resourceType": "Binary", "contentType": "application/json-patch+json",
              "data": base64.b64encode(json.dumps(operations).encode()).decode()}
    response = send(client, bundle(entry("PATCH", f"Patient/{the_id}", binary)))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["entry"][0]["resource"]["gender"] == "female"


# http.html#ops (Prefer: return=minimal | OperationOutcome) applies to each response entry
def test_prefer_return(client: FlaskClient) -> None:
    minimal = send(client, bundle(entry("POST", "Patient", patient())),
                   Prefer="return=minimal").get_json()["entry"][0]
    assert "resource" not in minimal
    assert minimal["response"]["status"] == "201 Created"
    outcome = send(client, bundle(entry("POST", "Patient", patient())),
                   Prefer="return=OperationOutcome").get_json()["entry"][0]
    assert "resource" not in outcome
    assert outcome["response"]["outcome"]["resourceType"] == "OperationOutcome"


# http.html#transaction: GET entries (search) see the transaction's own writes
def test_search_entry_sees_own_writes(client: FlaskClient) -> None:
    mrn = uuid.uuid4().hex
    response = send(client, bundle(
        entry("GET", f"Patient?identifier=urn:test:mrn|{mrn}"),
        entry("POST", "Patient", patient(identifier=[{"system": "urn:test:mrn",
                                                      "value": mrn}]))))
    assert response.status_code == 200, response.get_json()
    found = response.get_json()["entry"][0]["resource"]
    assert found["type"] == "searchset"
    assert found["total"] == 1


# http.html#ccreate + bundle.html#references: the same conditional create twice in one Bundle
# makes one resource; both fullUrls and a conditional reference with the same criteria use it
def test_repeated_conditional_create_in_one_bundle(client: FlaskClient) -> None:
    code = uuid.uuid4().hex
    org = {"resourceType": "Organization", "name": "Trạm y tế phường",
           "identifier": [{"system": "urn:test:org", "value": code}]}
    criteria = f"identifier=urn:test:org|{code}"
    first, second = urn(), urn()
    response = send(client, bundle(
        entry("POST", "Organization", org, first, ifNoneExist=criteria),
        entry("POST", "Organization", org, second, ifNoneExist=criteria),
        entry("POST", "Patient", patient(managingOrganization={"reference": second})),
        entry("POST", "Patient", patient(managingOrganization={
            "reference": f"Organization?{criteria}"}))))
    assert response.status_code == 200, response.get_json()
    one, two, p1, p2 = response.get_json()["entry"]
    assert one["response"]["status"] == "201 Created"
    assert two["response"]["status"] == "200 OK"
    org_ref = f"Organization/{one['resource']['id']}"
    assert p1["resource"]["managingOrganization"]["reference"] == org_ref
    assert p2["resource"]["managingOrganization"]["reference"] == org_ref
    found = client.get(f"/Organization?identifier=urn:test:org|{code}").get_json()
    assert found["total"] == 1
