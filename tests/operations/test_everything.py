"""Patient/[id]/$everything over every Patient-compartment type, in pages (FHIR R4
patient-operation-everything.html: "the server SHOULD return ... paged"; http.html#paging:
a `next` link whenever more results exist)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient

from fhir_server.auth.compartment import compartment_params
from fhir_server.operations.everything import record_types
from fhir_server.resource_types import RESOURCE_TYPES
from tests.api.helpers import created_id, patient, post

CODE = {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]}


def _record(client: FlaskClient) -> tuple[str, set[str]]:
    """A patient with resources of several compartment types (and somebody else's)."""
    pid = created_id(post(client, patient()))
    other = created_id(post(client, patient()))
    subject = {"reference": f"Patient/{pid}"}
    resources: list[dict[str, Any]] = [
        *({"resourceType": "Observation", "status": "final", "code": CODE, "subject": subject,
           "valueInteger": n} for n in range(5)),
        {"resourceType": "Condition", "subject": subject},
        {"resourceType": "Encounter", "status": "finished", "subject": subject,
         "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}},
        {"resourceType": "Procedure", "status": "completed", "subject": subject},
        {"resourceType": "AllergyIntolerance", "patient": subject},
        {"resourceType": "Immunization", "status": "completed", "patient": subject,
         "vaccineCode": CODE, "occurrenceDateTime": "2021-06-01"},
    ]
    ids = {f"Patient/{pid}"}
    for resource in resources:
        ids.add(f"{resource['resourceType']}/{created_id(post(client, resource))}")
    post(client, {"resourceType": "Observation", "status": "final", "code": CODE,
                  "subject": {"reference": f"Patient/{other}"}})
    return pid, ids


def _pages(client: FlaskClient, url: str) -> list[dict[str, Any]]:
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.get_json()
        pages.append(response.get_json())
        nexts = [link["url"] for link in pages[-1]["link"] if link["relation"] == "next"]
        url = "" if not nexts else (lambda u: f"{u.path[len('/fhir'):]}?{u.query}")(
            urlsplit(nexts[0]))
        assert len(pages) < 50
    return pages


def _ids(page: dict[str, Any]) -> list[str]:
    return [f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in page["entry"]]


# compartmentdefinition-patient.html: every type of the Patient compartment is in the record,
# except the audit trail (AuditEvent) and cohorts (Group)
def test_record_types_are_the_whole_patient_compartment() -> None:
    types = record_types(set())
    assert types[0] == "Patient"
    assert set(types[1:]) == {t for t in RESOURCE_TYPES if t != "Patient"
                              and compartment_params(t)} - {"AuditEvent", "Group"}
    assert {"Observation", "Condition", "Encounter", "Claim", "ExplanationOfBenefit"} <= set(types)
    assert record_types({"Observation"}) == ["Patient", "Observation"]


# patient-operation-everything.html: one page holds the Patient and all its compartment
def test_everything_in_one_page(fresh_client: FlaskClient) -> None:
    pid, ids = _record(fresh_client)
    (page,) = _pages(fresh_client, f"/Patient/{pid}/$everything")
    assert set(_ids(page)) == ids and len(_ids(page)) == len(ids)
    assert page["total"] == len(ids)
    assert _ids(page)[0] == f"Patient/{pid}"


# http.html#paging: small pages chain with next links; nothing lost, nothing repeated
def test_everything_pages_never_truncate(fresh_client: FlaskClient) -> None:
    pid, ids = _record(fresh_client)
    pages = _pages(fresh_client, f"/Patient/{pid}/$everything?_count=3")
    assert len(pages) == -(-len(ids) // 3)
    seen = [rid for page in pages for rid in _ids(page)]
    assert len(seen) == len(set(seen)) == len(ids) and set(seen) == ids
    assert all(len(_ids(page)) == 3 for page in pages[:-1])
    assert all("total" not in page for page in pages)
    assert not [link for link in pages[-1]["link"] if link["relation"] == "next"]


# _type narrows the record, and its pages keep it
def test_everything_type_filter_is_kept_across_pages(fresh_client: FlaskClient) -> None:
    pid, ids = _record(fresh_client)
    pages = _pages(fresh_client, f"/Patient/{pid}/$everything?_type=Observation&_count=2")
    seen = {rid for page in pages for rid in _ids(page)}
    assert seen == {f"Patient/{pid}"} | {i for i in ids if i.startswith("Observation/")}


# operationoutcome.html: a cursor that is not ours is a 400 OperationOutcome, never a 500
def test_everything_bad_cursor(fresh_client: FlaskClient) -> None:
    pid, _ids_ = _record(fresh_client)
    for cursor in ("garbage", "WyJOb3BlIiwiMSJd", "W10"):
        response = fresh_client.get(f"/Patient/{pid}/$everything?_cursor={cursor}")
        assert response.status_code == 400, cursor
        assert response.get_json()["resourceType"] == "OperationOutcome"
