"""Citizens over the types stored since every R4 type is (FHIR R4 security.html,
compartmentdefinition-patient.html): their own Encounters and Observations, nobody else's,
through type search, compartment search of every compartment, and $everything; admin-only
types refused (README "Types and roles")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from fhir_server.auth.principal import INTERNAL_PRINCIPAL, acting_as
from fhir_server.interactions import crud
from tests.api.test_auth_matrix import World

AMB = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}
CODE = {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]}


class Records:
    """Per citizen (a, b): an Encounter with a Practitioner, an Observation in it."""

    def __init__(self, world: World) -> None:
        svc = world.app.extensions["fhir"].internal()
        self.world = world
        self.ids: dict[str, dict[str, str]] = {}
        with acting_as(INTERNAL_PRINCIPAL):
            doc = crud.create(svc, "Practitioner", {"resourceType": "Practitioner"}).version.id
            self.doc = doc
            for who, pid in (("a", world.a["patient"]), ("b", world.b["patient"])):
                subject = {"reference": f"Patient/{pid}"}
                enc = crud.create(svc, "Encounter", {
                    "resourceType": "Encounter", "status": "finished", "class": AMB,
                    "subject": subject,
                    "participant": [{"individual": {"reference": f"Practitioner/{doc}"}}]}
                ).version.id
                obs = crud.create(svc, "Observation", {
                    "resourceType": "Observation", "status": "final", "code": CODE,
                    "subject": subject, "encounter": {"reference": f"Encounter/{enc}"},
                    "performer": [{"reference": f"Practitioner/{doc}"}]}).version.id
                self.ids[who] = {"Encounter": enc, "Observation": obs}
            self.binary = crud.create(svc, "Binary", {"resourceType": "Binary",
                                                      "contentType": "text/plain"}).version.id

    def get(self, actor: str, url: str) -> Any:
        return self.world.app.test_client().get(url, headers=self.world.tokens[actor])

    def ids_of(self, actor: str, url: str) -> set[str]:
        response = self.get(actor, url)
        assert response.status_code == 200, (url, response.get_json())
        return {f"{e['resource']['resourceType']}/{e['resource']['id']}"
                for e in response.get_json().get("entry", [])}


@pytest.fixture(scope="module")
def records(make_app: Callable[..., Flask]) -> Records:
    return Records(World(make_app(auth_required=True)))


def test_citizen_sees_own_new_type_records_only(records: Records) -> None:
    mine, theirs = records.ids["a"], records.ids["b"]
    assert records.ids_of("A", "/Observation") == {f"Observation/{mine['Observation']}"}
    assert records.ids_of("A", "/Encounter") == {f"Encounter/{mine['Encounter']}"}
    assert records.get("A", f"/Observation/{theirs['Observation']}").status_code == 404
    assert records.get("A", f"/Encounter/{theirs['Encounter']}/Observation").status_code == 404


def test_compartment_searches_stay_inside_the_citizens_compartment(records: Records) -> None:
    mine = records.ids["a"]
    # the Practitioner's compartment holds both citizens' Observations: A sees only theirs
    assert records.ids_of("A", f"/Practitioner/{records.doc}/Observation") == {
        f"Observation/{mine['Observation']}"}
    assert records.ids_of("A", f"/Encounter/{mine['Encounter']}/Observation") == {
        f"Observation/{mine['Observation']}"}
    everything = records.ids_of("A", f"/Patient/{records.world.a['patient']}/$everything")
    assert {f"Observation/{mine['Observation']}", f"Encounter/{mine['Encounter']}"} <= everything
    assert not {f"Observation/{records.ids['b']['Observation']}"} & everything
    assert records.ids_of("practitioner", f"/Practitioner/{records.doc}/Observation") == {
        f"Observation/{records.ids[w]['Observation']}" for w in "ab"}


def test_admin_only_types(records: Records) -> None:
    for actor, status in (("A", 403), ("practitioner", 403), ("analyst", 403), ("admin", 200)):
        assert records.get(actor, f"/Binary/{records.binary}").status_code == status, actor
    assert records.get("A", "/Task").status_code == 403
