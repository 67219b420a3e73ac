"""Search over HTTP (http.html#search, search.html): GET and POST, the searchset Bundle,
unknown parameters (lenient and strict), bad input, and result parameters."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.helpers import FHIR_JSON, created_id, issue, post
from tests.conftest import BASE_URL

FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def api(make_app: Callable[..., Flask]) -> FlaskClient:
    """An app with a few patients, an organization and immunizations."""
    client = make_app(default_page_size=5, max_page_size=50).test_client()
    org = created_id(post(client, {"resourceType": "Organization", "name": "Trạm y tế Phường 1"}))
    for family, given, birth in (("Nguyễn", "An", "1985-03-12"), ("Nguyen", "Bình", "1990-07-01"),
                                 ("Trần", "Chi", "2001-11-30"), ("Lê", "Dũng", "1985-01-02")):
        pid = created_id(post(client, {
            "resourceType": "Patient", "name": [{"family": family, "given": [given]}],
            "birthDate": birth, "gender": "female" if given == "Chi" else "male",
            "identifier": [{"system": "urn:cccd", "value": f"{family}-{birth}"}],
            "managingOrganization": {"reference": f"Organization/{org}"}}))
        post(client, {"resourceType": "Immunization", "status": "completed",
                      "vaccineCode": {"coding": [{"system": "urn:cvx", "code": "207"}]},
                      "patient": {"reference": f"Patient/{pid}"},
                      "occurrenceDateTime": "2021-06-01", "lotNumber": family})
    return client


def bundle(client: FlaskClient, url: str, **headers: str) -> dict[str, Any]:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    assert body["resourceType"] == "Bundle" and body["type"] == "searchset"
    return body


def link(body: dict[str, Any], relation: str) -> list[tuple[str, str]] | None:
    for item in body["link"]:
        if item["relation"] == relation:
            return parse_qsl(urlsplit(item["url"]).query)
    return None


def families(body: dict[str, Any]) -> list[str]:
    return [e["resource"]["name"][0]["family"] for e in body.get("entry", [])
            if e["search"]["mode"] == "match"]


def test_get_search_bundle(api: FlaskClient) -> None:
    # search.html#return: searchset, total, entries with fullUrl and search.mode=match
    body = bundle(api, "/Patient?name=nguyen")
    assert body["total"] == 2 and sorted(families(body)) == ["Nguyen", "Nguyễn"]
    entry = body["entry"][0]
    assert entry["fullUrl"].startswith(f"{BASE_URL}/Patient/")
    assert link(body, "self") == [("name", "nguyen"), ("_count", "5")]


def test_post_search_with_form_body(api: FlaskClient) -> None:
    # search.html#basicspost: form body, query parameters allowed too
    response = api.post("/Patient/_search?gender=male", data="family=nguy",
                        headers={"Content-Type": FORM})
    assert response.status_code == 200
    body = response.get_json()
    assert sorted(families(body)) == ["Nguyen", "Nguyễn"]
    assert ("family", "nguy") in (link(body, "self") or [])
    wrong = api.post("/Patient/_search", json={"family": "x"}, headers={"Content-Type": FHIR_JSON})
    assert wrong.status_code == 415


def test_unknown_parameter_is_ignored_and_reported(api: FlaskClient) -> None:
    # search.html#errors: lenient by default; the self link shows applied parameters only
    body = bundle(api, "/Patient?family=tran&foo=bar")
    assert families(body) == ["Trần"]
    outcome = [e for e in body["entry"] if e["search"]["mode"] == "outcome"]
    assert outcome and "foo" in outcome[0]["resource"]["issue"][0]["diagnostics"]
    assert link(body, "self") == [("family", "tran"), ("_count", "5")]


def test_unknown_parameter_strict_is_400(api: FlaskClient) -> None:
    response = api.get("/Patient?family=tran&foo=bar", headers={"Prefer": "handling=strict"})
    assert response.status_code == 400
    assert issue(response)["expression"] == ["foo"]
    response = api.post("/Patient/_search", data="_text=x", headers={
        "Content-Type": FORM, "Prefer": "handling=strict"})
    assert response.status_code == 400 and issue(response)["expression"] == ["_text"]


@pytest.mark.parametrize("query", [
    "name:foo=x", "name:in=x", "gender:below=x", "birthdate:exact=2000", "birthdate=xx2000",
    "birthdate=2000-13-01", "birthdate=23%20May%202009", "_count=-1", "_count=abc",
    "_sort=nope", "_total=maybe", "_summary=yes", "_include=Patient:name",
    "_include=Nope:x", "identifier:of-type=a|b", "_cursor=%7B%22%24ne%22%3A1%7D",
])
def test_bad_input_is_400(api: FlaskClient, query: str) -> None:
    response = api.get(f"/Patient?{query}")
    assert response.status_code == 400, (query, response.get_json())
    assert issue(response)["severity"] == "error"


@pytest.mark.parametrize("query", [
    'identifier={"$ne":null}', "name=%24where", "family=.*", "family=(a%2B)%2B%24",
    "family:contains=%5B%5E%5D", "_id=%7B%22%24gt%22%3A%22%22%7D", "name=" + "a" * 2000 + "!",
])
def test_operator_and_regex_values_are_data(api: FlaskClient, query: str) -> None:
    body = bundle(api, f"/Patient?{query}")
    assert body["total"] == 0


def test_operator_shaped_names_are_unknown_parameters(api: FlaskClient) -> None:
    body = bundle(api, "/Patient?name[$ne]=x&$where=1")
    assert body["total"] == 4
    assert len([e for e in body["entry"] if e["search"]["mode"] == "outcome"]) == 1


def test_count_total_and_summary_count(api: FlaskClient) -> None:
    # search.html#count, #total, #summary
    body = bundle(api, "/Patient?_count=2")
    assert len(families(body)) == 2 and body["total"] == 4 and link(body, "next")
    assert "total" not in bundle(api, "/Patient?_total=none")
    counted = bundle(api, "/Patient?_summary=count")
    assert counted["total"] == 4 and "entry" not in counted
    zero = bundle(api, "/Patient?_count=0")
    assert zero["total"] == 4 and "entry" not in zero
    capped = bundle(api, "/Patient?_count=5000")
    assert ("_count", "50") in (link(capped, "self") or [])


def test_summary_and_elements(api: FlaskClient) -> None:
    # search.html#summary / #elements: trimmed resources carry the SUBSETTED tag
    body = bundle(api, "/Immunization?_summary=true&_count=1")
    resource = body["entry"][0]["resource"]
    assert "lotNumber" not in resource and "vaccineCode" in resource
    assert resource["meta"]["tag"][-1]["code"] == "SUBSETTED"
    body = bundle(api, "/Patient?_elements=birthDate&family=tran")
    resource = body["entry"][0]["resource"]
    assert set(resource) == {"resourceType", "id", "meta", "birthDate"}
    body = bundle(api, "/Patient?_summary=data&family=tran")
    assert "text" not in body["entry"][0]["resource"]


def test_sort_several_keys(api: FlaskClient) -> None:
    # search.html#sort: several keys, '-' for descending
    body = bundle(api, "/Patient?_sort=-birthdate")
    assert families(body) == ["Trần", "Nguyen", "Nguyễn", "Lê"]
    body = bundle(api, "/Patient?_sort=birthdate")
    assert families(body) == ["Lê", "Nguyễn", "Nguyen", "Trần"]
    body = bundle(api, "/Patient?_sort=gender,-family")
    assert families(body)[0] == "Trần" and families(body)[-1] == "Lê"  # female first


def test_include_and_revinclude(api: FlaskClient) -> None:
    # search.html#include: search.mode=include, :iterate follows the included resources
    body = bundle(api, "/Immunization?lot-number=tran&_include=Immunization:patient")
    modes = sorted((e["search"]["mode"], e["resource"]["resourceType"]) for e in body["entry"])
    assert modes == [("include", "Patient"), ("match", "Immunization")]
    body = bundle(api, "/Patient?family=tran&_revinclude=Immunization:patient")
    assert [e["resource"]["resourceType"] for e in body["entry"]] == ["Patient", "Immunization"]
    body = bundle(api, "/Immunization?lot-number=tran&_include=Immunization:patient"
                       "&_include:iterate=Patient:organization")
    included = sorted(e["resource"]["resourceType"] for e in body["entry"]
                      if e["search"]["mode"] == "include")
    assert included == ["Organization", "Patient"]
    body = bundle(api, "/Immunization?lot-number=tran&_include=Immunization:*")
    assert len(body["entry"]) == 2


def test_chain_and_reverse_chain(api: FlaskClient) -> None:
    body = bundle(api, "/Immunization?patient.name=tran")
    assert body["total"] == 1
    body = bundle(api, "/Immunization?patient:Patient.organization.name=tram")
    assert body["total"] == 4
    body = bundle(api, "/Patient?_has:Immunization:patient:lot-number=le")
    assert families(body) == ["Lê"]


def test_conditional_operations_reject_unknown_parameters(api: FlaskClient) -> None:
    resource = {"resourceType": "Patient", "name": [{"family": "X"}]}
    response = post(api, resource, **{"If-None-Exist": "foo=bar"})
    assert response.status_code == 400
    response = post(api, resource, **{"If-None-Exist": f"identifier={uuid.uuid4().hex}"})
    assert response.status_code == 201


def test_the_last_instants_of_year_9999_are_stored_and_searchable(api: FlaskClient) -> None:
    """search.html#date: a range ending at the very end of the calendar stays open above (no
    overflow when the upper bound is rounded up to the millisecond)."""
    last = "9999-12-31T23:59:59.999998Z"
    created = post(api, {"resourceType": "Immunization", "status": "completed",
                         "vaccineCode": {"text": "edge"}, "patient": {"reference": "Patient/x"},
                         "occurrenceDateTime": last})
    assert created.status_code == 201, created.get_json()
    found = api.get(f"/Immunization?date=ge9999-12-31&_id={created_id(created)}").get_json()
    assert found["total"] == 1
    assert api.get(f"/Immunization?date=lt{last}&_count=1").status_code == 200


@pytest.mark.parametrize("query", ["name=%2C", "_lastUpdated=%2C%2C%2C", "_profile:below=%2C",
                                   "address-city=%2C", "name=%2C&gender=male"])
def test_values_made_only_of_commas_are_empty_parameters(api: FlaskClient, query: str) -> None:
    """search.html#errors: an empty parameter is ignored; commas alone separate no value."""
    answer = api.get(f"/Patient?{query}")
    assert answer.status_code == 200, answer.get_json()
    self_link = next(link["url"] for link in answer.get_json()["link"]
                     if link["relation"] == "self")
    assert "%2C" not in self_link and ",=" not in self_link
