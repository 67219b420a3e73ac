"""Token keys longer than the shared index keeps (STRING_KEY_LENGTH): the index holds them cut,
so the query hints with the cut key and lets the exact values decide (R4 search.html#token:
`system|code` matches exactly, however long)."""

from __future__ import annotations

from flask.testing import FlaskClient

FHIR = {"Content-Type": "application/fhir+json"}


def test_a_long_system_and_value_match_exactly(client: FlaskClient) -> None:
    system = "urn:test:" + "s" * 80
    shared = "v" * 60
    ids = []
    for tail in ("one", "two"):
        created = client.post("/Basic", headers=FHIR, json={
            "resourceType": "Basic", "code": {"text": "long key"},
            "identifier": [{"system": system, "value": shared + tail}]})
        assert created.status_code == 201, created.get_json()
        ids.append(created.get_json()["id"])
    found = client.get(f"/Basic?identifier={system}|{shared}one").get_json()
    assert [e["resource"]["id"] for e in found.get("entry", [])] == [ids[0]]
    both = client.get(f"/Basic?identifier={system}|{shared}one,{system}|{shared}two").get_json()
    assert sorted(e["resource"]["id"] for e in both.get("entry", [])) == sorted(ids)
