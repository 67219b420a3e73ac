"""National identifiers name one Patient (issue 14 point 1 "unique per system"): a unique
index on the stored `system|value` keys, so the database itself refuses the second record,
also when writers race (R4 patient.html#match: one person, one record)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.database import Database

from fhir_server.errors import Conflict
from fhir_server.search.criteria import EVERYTHING
from fhir_server.storage.mongo import MongoResourceStore
from fhir_server.storage.transactions import transact

CCCD = "urn:vn:cccd"


def _store(db: Database[Any]) -> MongoResourceStore:
    store = MongoResourceStore(db, lambda: datetime.now(UTC), unique={"Patient": (CCCD,)})
    store.ensure_indexes(["Patient"])
    return store


def _patient(*values: str, system: str = CCCD) -> dict[str, Any]:
    return {"resourceType": "Patient",
            "identifier": [{"system": "urn:other", "value": "x"},
                           *({"system": system, "value": v} for v in values)]}


def test_a_second_patient_with_the_same_cccd_is_refused_naming_the_first(
        db: Database[Any]) -> None:
    store = _store(db)
    first = store.create("Patient", _patient("079090001234"))
    with pytest.raises(Conflict) as refused:
        store.create("Patient", _patient("079090001234"))
    issue = refused.value.issues[0]
    assert issue.code == "duplicate" and issue.expression == ("Patient.identifier[1]",)
    assert f"Patient/{first.id}" in issue.diagnostics
    assert store.count("Patient", EVERYTHING) == 1


def test_update_create_many_and_delete_keep_the_rule(db: Database[Any]) -> None:
    store = _store(db)
    a = store.create("Patient", _patient("079090001234"))
    b = store.create("Patient", _patient("001190004321"))
    store.update("Patient", a.id, _patient("079090001234"))  # its own key: fine
    with pytest.raises(Conflict):  # taking another's key by update
        store.update("Patient", b.id, _patient("079090001234"))
    with pytest.raises(Conflict):  # PUT with a client id (create) of a held key
        store.update("Patient", "new-id", _patient("001190004321"))
    with pytest.raises(Conflict):
        store.create_many("Patient", [_patient("036090000001"), _patient("001190004321")])
    other_system = store.create("Patient", _patient("079090001234", system="urn:other:mrn"))
    assert other_system.id  # another system's equal value is no collision
    store.delete("Patient", a.id)  # a deleted record frees its identifier
    assert store.create("Patient", _patient("079090001234")).id
    with_none = [store.create("Patient", {"resourceType": "Patient"}) for _ in range(2)]
    assert len({v.id for v in with_none}) == 2  # no identifier: no key (sparse index)


def test_racing_creates_of_one_cccd_store_exactly_one(
        db: Database[Any], mongo_uri: str) -> None:
    """10 parallel creates (each in its own transaction, as the API runs them) -> 1 stored,
    9 refused with 409; no read-then-write window."""
    store = _store(db)
    client = db.client

    def work() -> Any:
        return store.create("Patient", _patient("079090009999"))

    def create() -> str:
        try:
            return str(transact(client, work).id)
        except Conflict:
            return "409"

    with ThreadPoolExecutor(10) as pool:
        outcomes = list(pool.map(lambda _: create(), range(10)))
    assert sum(o != "409" for o in outcomes) == 1, outcomes
    assert store.count("Patient", EVERYTHING) == 1
