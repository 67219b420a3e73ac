"""_summary and _elements on read, vread and search (FHIR R4 search.html#summary, #elements)."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient

from tests.api.helpers import created_id, issue, patient, post

SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
             "code": "SUBSETTED"}


def _subsetted(resource: dict[str, Any]) -> bool:
    return any(tag.get("system") == SUBSETTED["system"] and tag.get("code") == "SUBSETTED"
               for tag in resource.get("meta", {}).get("tag", []))


def _observation(patient_id: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "status": "final",
            "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">"
                     "x</div>"},
            "code": {"coding": [{"system": "urn:test:obs", "code": uuid.uuid4().hex}]},
            "subject": {"reference": f"Patient/{patient_id}"},
            "note": [{"text": "not in the summary"}], "valueString": "v"}


def test_read_summary_true_text_data(client: FlaskClient) -> None:
    """search.html#summary on a read (http.html#read allows _summary): true keeps the summary
    elements (Observation.note is not one), text keeps text + mandatory elements, data drops
    text; each trimmed resource carries the SUBSETTED tag; false is the whole resource."""
    pid = created_id(post(client, patient()))
    oid = created_id(post(client, _observation(pid)))
    whole = client.get(f"/Observation/{oid}").get_json()
    assert "note" in whole and not _subsetted(whole)
    summary = client.get(f"/Observation/{oid}?_summary=true").get_json()
    assert "note" not in summary and "text" not in summary
    assert summary["status"] == "final" and "code" in summary and "subject" in summary
    assert "valueString" in summary and _subsetted(summary)
    text = client.get(f"/Observation/{oid}?_summary=text").get_json()
    assert set(text) == {"resourceType", "id", "meta", "text", "status", "code"}
    assert _subsetted(text)
    data = client.get(f"/Observation/{oid}?_summary=data").get_json()
    assert "text" not in data and "note" in data and _subsetted(data)
    assert not _subsetted(client.get(f"/Observation/{oid}?_summary=false").get_json())
    version = client.get(f"/Observation/{oid}/_history/1?_summary=true").get_json()
    assert "note" not in version and _subsetted(version)


def test_read_elements(client: FlaskClient) -> None:
    """search.html#elements on read and vread: only the named elements plus the mandatory ones
    (Observation.status, code) and id/meta, tagged SUBSETTED; choices by their [x] name."""
    pid = created_id(post(client, patient()))
    oid = created_id(post(client, _observation(pid)))
    for url in (f"/Observation/{oid}?_elements=note", f"/Observation/{oid}/_history/1"
                "?_elements=note"):
        body = client.get(url).get_json()
        assert set(body) == {"resourceType", "id", "meta", "status", "code", "note"}, url
        assert _subsetted(body)
    choice = client.get(f"/Observation/{oid}?_elements=value[x],subject").get_json()
    assert "valueString" in choice and "subject" in choice and "note" not in choice


def test_bad_summary_and_elements_are_400(client: FlaskClient) -> None:
    """search.html#summary lists true|text|data|count|false (count is for searches): another
    value is a 400 OperationOutcome naming the parameter; an _elements naming no element of the
    type likewise (and nothing is read or changed)."""
    pid = created_id(post(client, patient()))
    for query, name in (("_summary=yes", "_summary"), ("_summary=count", "_summary"),
                        ("_elements=nosuchthing", "_elements"), ("_elements=,", "_elements")):
        for url in (f"/Patient/{pid}?{query}", f"/Patient/{pid}/_history/1?{query}"):
            response = client.get(url)
            assert response.status_code == 400, url
            found = issue(response)
            assert found["code"] == "value" and found["expression"] == [name], url
    assert client.get(f"/Patient?_id={pid}&_summary=yes").status_code == 400


def test_search_elements_spare_included_resources(client: FlaskClient) -> None:
    """search.html#elements and #include: _elements and _summary shape the matches; the
    resources added by _include are returned whole (not subsetted)."""
    pid = created_id(post(client, patient()))
    oid = created_id(post(client, _observation(pid)))
    for shaping in ("_elements=status", "_summary=true"):
        bundle = client.get(f"/Observation?_id={oid}&_include=Observation:subject&{shaping}"
                            ).get_json()
        modes = {e["search"]["mode"]: e["resource"] for e in bundle["entry"]}
        assert "note" not in modes["match"] and _subsetted(modes["match"]), shaping
        included = modes["include"]
        assert included["resourceType"] == "Patient" and "name" in included, shaping
        assert not _subsetted(included), shaping


def test_search_with_unknown_element_is_400(client: FlaskClient) -> None:
    """search.html#elements: _elements names elements of the searched type(s); one that none
    of them has is a 400 with expression _elements (not silently ignored)."""
    response = client.get("/Patient?_elements=nosuchthing")
    assert response.status_code == 400
    found = issue(response)
    assert found["code"] == "value" and found["expression"] == ["_elements"]
    assert client.get("/Patient?_elements=Patient.name,birthDate").status_code == 200


def test_batch_read_honours_summary(client: FlaskClient) -> None:
    """http.html#batch: a GET entry is processed as the same request on its own, so
    Observation/[id]?_summary=true in a batch returns the subsetted resource."""
    pid = created_id(post(client, patient()))
    oid = created_id(post(client, _observation(pid)))
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": f"Observation/{oid}?_summary=true"}},
        {"request": {"method": "GET", "url": f"Observation/{oid}?_summary=nope"}}]}
    body = client.post("/", json=bundle, headers={"Content-Type": "application/fhir+json"}
                       ).get_json()
    trimmed = body["entry"][0]["resource"]
    assert "note" not in trimmed and _subsetted(trimmed)
    assert body["entry"][1]["response"]["status"].startswith("400")
