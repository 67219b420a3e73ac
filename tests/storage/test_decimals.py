"""Stored decimals keep their precision (FHIR R4 datatypes.html#decimal): Decimal128 in BSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bson.decimal128 import Decimal128
from pymongo.database import Database

from fhir_server.model.jsonio import dumps, loads
from fhir_server.storage.decimals import bson_ready
from fhir_server.storage.mongo import MongoResourceStore


def test_bson_ready_copies_only_what_holds_decimals() -> None:
    """Only containers holding decimals are copied; the caller's resource is not changed."""
    resource = loads(b'{"a":{"b":0.50},"c":{"d":"x"},"e":[1,2]}')
    ready = bson_ready(resource)
    assert ready["a"]["b"] == Decimal128("0.50")
    assert ready["c"] is resource["c"] and ready["e"] is resource["e"]
    assert dumps(resource) == b'{"a":{"b":0.50},"c":{"d":"x"},"e":[1,2]}'


def test_store_round_trip(db: Database[Any]) -> None:
    """datatypes.html#decimal: read, vread, history and search give 0.50 and -83.694710 back;
    a decimal over Decimal128's 34 digits is kept as a double (no error)."""
    store = MongoResourceStore(db, lambda: datetime.now(UTC))
    body = (b'{"resourceType":"Location","position":{"longitude":-83.694710,"latitude":42.2560,'
            b'"altitude":0.1234567890123456789012345678901234567890}}')
    created = store.create("Location", loads(body))
    assert db["Location"].find_one()["res"]["position"]["latitude"] == Decimal128("42.2560")
    for version in (store.read("Location", created.id),
                    store.vread("Location", created.id, 1)):
        out = dumps(version.resource)
        assert b'"longitude":-83.694710,"latitude":42.2560' in out
