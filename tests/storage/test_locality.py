"""Patient-compartment locality (storage/locality.py; docs/deploy.md "Shard key per
collection"): each compartment member carries `pat`, the Patient of its owner parameter (the
first linking parameter of FHIR R4 compartmentdefinition-patient.html), written on create and
update, kept in the compare-and-set filters and by `reindex`; a search pinning a single-valued
owner parameter to Patients names `pat` in its filter and finds the same resources as before
(FHIR R4 search.html#reference, compartments.html#search)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from fhir_server.storage.locality import (
    PATIENT_FIELD,
    is_sharded,
    owner_param,
    patient_test,
    single_owner,
)
from fhir_server.storage.mongo import MongoResourceStore
from fhir_server.storage.search_indexes import reindex


@pytest.fixture()
def app(make_app: Callable[..., Flask]) -> Flask:
    """An app on a fresh database."""
    return make_app()


def _store(app: Flask) -> MongoResourceStore:
    store: MongoResourceStore = app.extensions["fhir"].store.store
    return store


def _dose(patient: str) -> dict[str, Any]:
    return {"resourceType": "Immunization", "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "208"}]},
            "patient": {"reference": f"Patient/{patient}"},
            "occurrenceDateTime": "2021-08-02"}


def _stored(app: Flask, type_name: str, resource_id: str) -> dict[str, Any]:
    found: dict[str, Any] = _store(app).db[type_name].find_one({"_id": resource_id})
    return found


def test_owner_parameters_come_from_the_compartment_definition() -> None:
    assert owner_param("Immunization") == "patient"
    assert owner_param("Observation") == "subject"  # before performer
    assert owner_param("Appointment") == "actor"
    assert owner_param("Patient") is None  # the compartment's own resource
    assert owner_param("Organization") is None  # not in the compartment
    assert single_owner("Immunization") and single_owner("Observation")
    assert single_owner("AdverseEvent") and single_owner("QuestionnaireResponse")
    assert not single_owner("Appointment")  # participant is an array: a family appointment
    assert not single_owner("AuditEvent")  # two expressions


def test_the_pat_test_only_for_a_single_valued_owner_naming_patients() -> None:
    assert patient_test("Immunization", "patient", ["Patient/a"]) == {"$in": ["a", None]}
    assert patient_test("Immunization", "patient", ["Patient/a", "Patient/b"]) == {
        "$in": ["a", "b", None]}
    assert patient_test("Immunization", "performer", ["Patient/a"]) is None
    assert patient_test("Appointment", "actor", ["Patient/a"]) is None
    assert patient_test("Observation", "subject", ["Group/g"]) is None
    assert patient_test("Observation", "subject", ["http://other.vn/fhir/Patient/a"]) is None


def test_create_update_and_delete_keep_pat(app: Flask) -> None:
    web = app.test_client()
    dose = web.post("/Immunization", json=_dose("p1")).get_json()
    assert _stored(app, "Immunization", dose["id"])[PATIENT_FIELD] == "p1"
    moved = {**dose, **_dose("p2")}  # recorded on the wrong person: moved to another
    assert web.put(f"/Immunization/{dose['id']}", json=moved).status_code == 200
    assert _stored(app, "Immunization", dose["id"])[PATIENT_FIELD] == "p2"
    assert web.get("/Immunization?patient=p1").get_json().get("total") == 0
    assert web.get("/Immunization?patient=p2").get_json()["total"] == 1
    assert web.delete(f"/Immunization/{dose['id']}").status_code in (200, 204)
    assert web.get(f"/Immunization/{dose['id']}").status_code == 410


def test_multi_patient_and_non_patient_owners(app: Flask) -> None:
    web = app.test_client()
    family = web.post("/Appointment", json={
        "resourceType": "Appointment", "status": "booked", "participant": [
            {"actor": {"reference": "Patient/mother"}, "status": "accepted"},
            {"actor": {"reference": "Patient/child"}, "status": "accepted"}]}).get_json()
    assert _stored(app, "Appointment", family["id"])[PATIENT_FIELD] == "mother"
    # the second Patient still finds it: Appointment searches do not add pat
    found = web.get("/Appointment?actor=Patient/child").get_json()
    assert [e["resource"]["id"] for e in found["entry"]] == [family["id"]]
    group = web.post("/Observation", json={
        "resourceType": "Observation", "status": "final", "code": {"text": "x"},
        "subject": {"reference": "Group/g1"}}).get_json()
    assert PATIENT_FIELD not in _stored(app, "Observation", group["id"])


def test_search_filter_names_pat_and_old_documents_are_still_found(app: Flask) -> None:
    web = app.test_client()
    web.put("/Patient/p9", json={"resourceType": "Patient", "id": "p9"})  # the compartment's
    first = web.post("/Immunization", json=_dose("p9")).get_json()
    second = web.post("/Immunization", json=_dose("p9")).get_json()
    web.post("/Immunization", json=_dose("other"))
    store = _store(app)
    # a document stored before `pat` existed
    store.db["Immunization"].update_one({"_id": second["id"]}, {"$unset": {PATIENT_FIELD: 1}})
    for query in ("/Immunization?patient=Patient/p9", "/Patient/p9/Immunization"):
        found = web.get(query).get_json()
        assert sorted(e["resource"]["id"] for e in found["entry"]) == sorted(
            [first["id"], second["id"]]), query
    svc: Any = app.extensions["fhir"].internal()
    criteria = svc.search.criteria_for("Immunization", [("patient", "Patient/p9")])
    from fhir_server.storage.query import compile_criteria
    targeted = compile_criteria("Immunization", criteria, targeted=True)
    assert targeted[PATIENT_FIELD] == {"$in": ["p9", None]}  # behind mongos
    assert PATIENT_FIELD not in compile_criteria("Immunization", criteria)  # a replica set
    assert not is_sharded(store.db)  # the test server is not mongos
    store._sharded = True  # as behind mongos: the same answers through the targeted filter
    for query in ("/Immunization?patient=Patient/p9", "/Patient/p9/Immunization"):
        found = web.get(query).get_json()
        assert sorted(e["resource"]["id"] for e in found["entry"]) == sorted(
            [first["id"], second["id"]]), query
    reindex(store.db, ["Immunization"], store.indexer)  # gives the old document its pat
    assert _stored(app, "Immunization", second["id"])[PATIENT_FIELD] == "p9"
