"""Search contexts (search.html#searchcontexts): system search with _type, compartment
search with the official Patient CompartmentDefinition, and the CapabilityStatement."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from fhir_server.resource_types import RESOURCE_TYPES
from fhir_server.search.registry import supported_params
from tests.api.helpers import created_id, post
from tests.conftest import BASE_URL

FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def world(make_app: Callable[..., Flask]) -> tuple[FlaskClient, dict[str, str]]:
    """Two patients with immunizations, a communication and a practitioner."""
    client = make_app().test_client()
    ids = {"p1": created_id(post(client, {"resourceType": "Patient", "gender": "male"})),
           "p2": created_id(post(client, {"resourceType": "Patient", "gender": "female"})),
           "pr": created_id(post(client, {"resourceType": "Practitioner",
                                          "name": [{"family": "Võ"}]}))}
    for key in ("p1", "p1", "p2"):
        post(client, {"resourceType": "Immunization", "status": "completed",
                      "vaccineCode": {"text": "x"}, "occurrenceDateTime": "2022-02-02",
                      "patient": {"reference": f"Patient/{ids[key]}"}})
    ids["c1"] = created_id(post(client, {"resourceType": "Communication", "status": "completed",
                                         "recipient": [{"reference": f"Patient/{ids['p1']}"}]}))
    return client, ids


def entries(client: FlaskClient, url: str, **kwargs: Any) -> list[dict[str, Any]]:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, response.get_json()
    return list(response.get_json().get("entry", []))


def test_system_search_with_type(world: tuple[FlaskClient, dict[str, str]]) -> None:
    client, ids = world
    found = entries(client, f"/?_type=Patient,Practitioner&_id={ids['p1']},{ids['pr']}")
    assert sorted(e["resource"]["resourceType"] for e in found) == ["Patient", "Practitioner"]
    found = entries(client, "/?_type=Immunization,Communication&_count=2")
    assert len(found) == 2
    response = client.post("/_search", data="_type=Patient&gender=female",
                           headers={"Content-Type": FORM})
    assert [e["resource"]["id"] for e in response.get_json()["entry"]] == [ids["p2"]]


def test_system_search_pages_across_types(world: tuple[FlaskClient, dict[str, str]]) -> None:
    client, _ids = world
    url, seen = "/?_type=Patient,Immunization,Communication&_count=2", []
    while url:
        body = client.get(url).get_json()
        seen.extend(e["fullUrl"] for e in body.get("entry", []))
        url = next((item["url"].removeprefix(BASE_URL) for item in body["link"]
                    if item["relation"] == "next"), "")
    assert len(seen) == len(set(seen)) == 6 and body["total"] == 6


def test_system_search_rejects_type_specific_parameters(
        world: tuple[FlaskClient, dict[str, str]]) -> None:
    client, _ids = world
    response = client.get("/?_type=Patient,Immunization&gender=male",
                          headers={"Prefer": "handling=strict"})
    assert response.status_code == 400
    assert client.get("/?_type=Nope").status_code == 400


def test_compartment_search(world: tuple[FlaskClient, dict[str, str]]) -> None:
    # compartmentdefinition-patient.html: Immunization.patient, Communication.recipient...
    client, ids = world
    assert len(entries(client, f"/Patient/{ids['p1']}/Immunization")) == 2
    assert len(entries(client, f"/Patient/{ids['p2']}/Immunization")) == 1
    found = entries(client, f"/Patient/{ids['p1']}/Communication")
    assert [e["resource"]["id"] for e in found] == [ids["c1"]]
    assert entries(client, f"/Patient/{ids['p1']}/Immunization?date=2022") != []
    assert entries(client, f"/Patient/{ids['p1']}/Immunization?date=2021") == []
    response = client.post(f"/Patient/{ids['p1']}/Immunization/_search", data="date=2022",
                           headers={"Content-Type": FORM})
    assert len(response.get_json()["entry"]) == 2


def test_compartment_errors_and_neighbours(world: tuple[FlaskClient, dict[str, str]]) -> None:
    client, ids = world
    assert client.get(f"/Patient/{ids['p1']}/Practitioner").status_code in (400, 404)
    assert client.get("/Patient/no-such-patient/Immunization").status_code == 404
    assert client.get(f"/Patient/{ids['p1']}/_history").status_code == 200
    assert client.get(f"/Patient/{ids['p1']}").status_code == 200


def test_capability_statement_lists_search_parameters(
        world: tuple[FlaskClient, dict[str, str]]) -> None:
    # capabilitystatement: searchParam per type from the registry
    client, _ids = world
    statement = client.get("/metadata").get_json()
    rest = statement["rest"][0]
    assert {"code": "search-system"} in rest["interaction"]
    by_type = {r["type"]: r for r in rest["resource"]}
    for type_name in RESOURCE_TYPES:
        listed = {p["name"]: p for p in by_type[type_name]["searchParam"]}
        assert set(listed) == {p.code for p in supported_params(type_name)}
    name = {p["name"]: p for p in by_type["Patient"]["searchParam"]}["name"]
    assert name["type"] == "string"
    assert name["definition"] == "http://hl7.org/fhir/SearchParameter/Patient-name"
    assert "Patient.name" in name["documentation"]
