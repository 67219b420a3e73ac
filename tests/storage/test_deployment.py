"""Deployment queries of the database (issue 16 point 1): which indexes are missing (`serve
--prod` refuses to start then), the server kind, demo leftovers."""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from fhir_server.resource_types import RESOURCE_TYPES
from fhir_server.search.registry import date_params
from fhir_server.storage import deployment
from fhir_server.storage.analytics_cells import COLLECTION
from fhir_server.storage.analytics_facts import SERIOUS, ensure_analytics_indexes
from fhir_server.storage.search_indexes import ensure_search_indexes


def test_missing_indexes_of_every_type(db: Database[Any]) -> None:
    missing = deployment.all_missing_indexes(db, tuple(RESOURCE_TYPES))
    analytics = {COLLECTION, SERIOUS}
    assert {name.split(".")[0] for name in missing} == set(RESOURCE_TYPES) | {"history"} | analytics
    ensure_analytics_indexes(db)
    assert not {name.split(".")[0] for name in deployment.all_missing_indexes(
        db, tuple(RESOURCE_TYPES))} & analytics
    ensure_search_indexes(db, {"Patient": date_params("Patient")})
    missing = deployment.all_missing_indexes(db, ("Patient",))
    assert "Patient.search_keys" not in missing and "Patient.ts" in missing
    assert deployment.index_counts(db)["Patient"] == 1 + 1 + 2 * len(date_params("Patient"))


def test_server_kind_and_ping(db: Database[Any]) -> None:
    assert deployment.database_error(db) is None
    # the test server is SecantusDB (a one-node replica set) or MONGODB_URI's
    assert deployment.server_kind(db) in ("replica-set", "sharded")


def test_demo_leftovers(db: Database[Any]) -> None:
    db["_accounts"].insert_one({"_id": "a1", "phone": "+84912345678"})
    db["Patient"].insert_one({"_id": "demo-nguyen-van-an", "vid": 1})
    assert deployment.accounts_with_phones(db, ["+84912345678", "+84900000001"]) == [
        "+84912345678"]
    assert deployment.present_ids(db, "Patient", ["demo-tran-thi-binh",
                                                  "demo-nguyen-van-an"]) == [
        "demo-nguyen-van-an"]
