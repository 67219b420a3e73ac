"""Size bombs: bounded index strings and a 413 for documents over the database limit.

FHIR R4 datatypes.html#string ("Strings SHALL NOT exceed 1MB"); http.html ("413 Payload Too Large"
is not listed, but a server may refuse content it cannot store); issue 12 point 8.
"""

from __future__ import annotations

import time

import pymongo
from flask.testing import FlaskClient

from tests.api.helpers import FHIR_JSON, created_id, patient


def _stored_bytes(mongo_uri: str, database: str, type_name: str, resource_id: str) -> int:
    """The size of the stored current-version document (resource + search index)."""
    import bson

    client: pymongo.MongoClient = pymongo.MongoClient(mongo_uri)
    try:
        doc = client[database][type_name].find_one({"_id": resource_id})
        assert doc is not None
        return len(bson.encode(doc))
    finally:
        client.close()


def test_a_huge_name_is_stored_once_not_multiplied(client: FlaskClient, mongo_uri: str) -> None:
    # issue 12 point 8: a 1 MiB family name became a 13.6 MB document (index copies of it)
    family = "Nguyen" * 170_000  # 1,020,000 characters: under the 1 MiB string limit
    response = client.post("/Patient", json=patient(family=family),
                           headers={"Content-Type": FHIR_JSON})
    resource_id = created_id(response)
    database = client.application.extensions["fhir"].settings.database
    stored = _stored_bytes(mongo_uri, database, "Patient", resource_id)
    assert stored < len(family) + 100_000, stored  # the resource, plus small index strings
    found = client.get(f"/Patient?family={family[:2048]}&_elements=id").get_json()
    assert resource_id in [e["resource"]["id"] for e in found.get("entry", [])]


def test_a_search_value_over_the_index_length_is_refused(client: FlaskClient) -> None:
    # search.html#errors: a value the server cannot honour exactly is a 400 with its parameter
    response = client.get("/Patient?family=" + "n" * 2049)
    assert response.status_code == 400
    issue = response.get_json()["issue"][0]
    assert issue["code"] == "too-costly" and issue["expression"] == ["family"]


def test_a_document_over_the_database_limit_is_a_413(client: FlaskClient) -> None:
    # BSON's 16 MiB limit: 1.3 million one-letter given names are 5 MB of JSON but 18 MB of BSON
    before = int(client.get("/Patient/_history?_count=0").get_json()["total"])
    bomb = patient(name=[{"family": "Bomb", "given": ["a"] * 1_300_000}])
    started = time.monotonic()
    response = client.post("/Patient", json=bomb, headers={"Content-Type": FHIR_JSON})
    assert response.status_code == 413, response.get_data()[:300]
    outcome = response.get_json()
    assert outcome["issue"][0]["code"] == "too-costly"
    assert "16 MiB" in outcome["issue"][0]["diagnostics"]
    assert int(client.get("/Patient/_history?_count=0").get_json()["total"]) == before
    assert time.monotonic() - started < 120  # refused, not ground through for minutes
