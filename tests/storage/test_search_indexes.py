"""The search indexes (storage/search_indexes.py): sparse, so a resource without a field adds
no entry, and an index made by the earlier layout (not sparse) is rebuilt sparse by the next
start or `fhir-server indexes` (search.html#date: a date comparison never matches a resource
without the date, so the sparse index still serves every query on it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.database import Database

from fhir_server.storage.search_indexes import ensure_search_indexes


def test_search_indexes_are_sparse_and_rebuilt_so(db: Database[Any]) -> None:
    db["Patient"].create_index([("idx.p.birthdate.lo", ASCENDING)], name="search_birthdate_lo")
    db["Patient"].insert_many([
        {"_id": "dated", "idx": {"p": {"birthdate": [{"lo": datetime(1990, 1, 1, tzinfo=UTC),
                                                      "hi": datetime(1990, 1, 2, tzinfo=UTC)}]}}},
        {"_id": "undated", "idx": {}}])
    ensure_search_indexes(db, {"Patient": ["birthdate"]})
    ensure_search_indexes(db, {"Patient": ["birthdate"]})  # then a no-op
    found = db["Patient"].index_information()
    assert {name for name in found if name.startswith("search_")} == {
        "search_keys", "search_birthdate_lo", "search_birthdate_hi"}
    assert all(found[name].get("sparse") for name in found if name.startswith("search_"))
    query = {"idx.p.birthdate.lo": {"$gte": datetime(1989, 1, 1, tzinfo=UTC)}}
    assert [doc["_id"] for doc in db["Patient"].find(query)] == ["dated"]
    plan = db["Patient"].find(query).explain()["queryPlanner"]["winningPlan"]
    assert plan["inputStage"]["indexName"] == "search_birthdate_lo"
