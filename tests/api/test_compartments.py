"""Compartment search for the five R4 compartments (FHIR R4 http.html#search: "GET
[base]/[Compartment]/[id]/{*?[parameters]}", compartmentdefinition.html: Patient, Encounter,
RelatedPerson, Practitioner, Device) over types stored since every R4 type is."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.api.helpers import created_id, patient, post


def _ids(client: FlaskClient, url: str) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.get_json())
    bundle = response.get_json()
    return {f"{e['resource']['resourceType']}/{e['resource']['id']}"
            for e in bundle.get("entry", []) if e["search"]["mode"] == "match"}


def _create(client: FlaskClient, resource: dict[str, Any]) -> str:
    return f"{resource['resourceType']}/{created_id(post(client, resource))}"


def _observation(patient_ref: str, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
            "subject": {"reference": patient_ref}, **extra}


def _world(client: FlaskClient) -> dict[str, str]:
    """Two patients; an encounter of the first with a practitioner; a device; observations."""
    world = {"p1": _create(client, patient()), "p2": _create(client, patient())}
    world["doc"] = _create(client, {"resourceType": "Practitioner", "name": [{"family": "Lê"}]})
    world["rel"] = _create(client, {"resourceType": "RelatedPerson",
                                    "patient": {"reference": world["p1"]}})
    world["dev"] = _create(client, {"resourceType": "Device", "status": "active"})
    world["enc"] = _create(client, {
        "resourceType": "Encounter", "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": world["p1"]},
        "participant": [{"individual": {"reference": world["doc"]}}]})
    world["obs_enc"] = _create(client, _observation(
        world["p1"], encounter={"reference": world["enc"]},
        performer=[{"reference": world["doc"]}], device={"reference": world["dev"]}))
    world["obs_p1"] = _create(client, _observation(world["p1"]))
    world["obs_p2"] = _create(client, _observation(world["p2"],
                                                   performer=[{"reference": world["rel"]}]))
    return world


# compartmentdefinition-patient.html: Observation is in the Patient compartment (subject)
def test_patient_compartment_of_a_new_type(fresh_client: FlaskClient) -> None:
    w = _world(fresh_client)
    assert _ids(fresh_client, f"/{w['p1']}/Observation") == {w["obs_enc"], w["obs_p1"]}
    assert _ids(fresh_client, f"/{w['p1']}/Encounter") == {w["enc"]}
    assert _ids(fresh_client, f"/{w['p2']}/Observation") == {w["obs_p2"]}


# compartmentdefinition-encounter.html: Observation by `encounter`; the Encounter is in its own
def test_encounter_compartment(fresh_client: FlaskClient) -> None:
    w = _world(fresh_client)
    assert _ids(fresh_client, f"/{w['enc']}/Observation") == {w["obs_enc"]}
    assert _ids(fresh_client, f"/{w['enc']}/Encounter") == {w["enc"]}
    posted = fresh_client.post(f"/{w['enc']}/Observation/_search", data={"status": "final"})
    assert posted.status_code == 200
    assert [e["resource"]["id"] for e in posted.get_json()["entry"]] == [
        w["obs_enc"].split("/")[1]]


# compartmentdefinition-practitioner.html: Observation by performer, Encounter by participant
def test_practitioner_compartment(fresh_client: FlaskClient) -> None:
    w = _world(fresh_client)
    assert _ids(fresh_client, f"/{w['doc']}/Observation") == {w["obs_enc"]}
    assert _ids(fresh_client, f"/{w['doc']}/Encounter") == {w["enc"]}


# compartmentdefinition-relatedperson.html and -device.html: performer, device
def test_related_person_and_device_compartments(fresh_client: FlaskClient) -> None:
    w = _world(fresh_client)
    assert _ids(fresh_client, f"/{w['rel']}/Observation") == {w["obs_p2"]}
    assert _ids(fresh_client, f"/{w['dev']}/Observation") == {w["obs_enc"]}


# http.html#search: unknown compartments and types outside a compartment are errors, not 500s
def test_compartment_errors(fresh_client: FlaskClient) -> None:
    w = _world(fresh_client)
    assert fresh_client.get("/Encounter/nobody/Observation").status_code == 404
    assert fresh_client.get(f"/{w['enc']}/Organization").status_code in (400, 404)
    assert fresh_client.get(f"/{w['dev']}/Patient").status_code in (400, 404)
    bad = fresh_client.get(f"/{w['enc']}/Observation?nonsense=1",
                           headers={"Prefer": "handling=strict"})
    assert bad.status_code == 400
    assert bad.get_json()["resourceType"] == "OperationOutcome"
