"""Deployment queries of the database (issue 16 point 1): every index at once (`fhir-server
indexes`), the server kind, demo leftovers."""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from fhir_server.resource_types import RESOURCE_TYPES
from fhir_server.search.registry import date_params
from fhir_server.storage import deployment

TYPES = ("Patient", "Immunization", "Appointment")


def test_create_all_indexes_builds_what_readiness_expects(db: Database[Any]) -> None:
    assert "Patient.search_keys" in deployment.all_missing_indexes(db, TYPES)
    counts = deployment.create_all_indexes(
        db, list(TYPES), {name: date_params(name) for name in TYPES},
        {"Patient": ("urn:vn:cccd",)})
    assert deployment.all_missing_indexes(db, TYPES) == []
    # the typed stores' indexes too: accounts (phone, bhxh, patient + _id), outbox, cards
    assert counts["_accounts"] == 4 and counts["_outbox"] == 3 and counts["_health_cards"] == 2
    assert "unique_identifiers" in str(db["Patient"].index_information())
    again = deployment.create_all_indexes(db, list(TYPES),
                                          {name: date_params(name) for name in TYPES})
    assert again == counts  # idempotent


def test_every_type_is_checked(db: Database[Any]) -> None:
    missing = deployment.all_missing_indexes(db, tuple(RESOURCE_TYPES))
    assert {name.split(".")[0] for name in missing} >= set(RESOURCE_TYPES) | {"history"}


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
