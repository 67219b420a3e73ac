"""storage/transactions.py: one unit of work per transaction, re-run on conflicts.

FHIR R4 http.html#transaction ("all actions succeed or fail together"); MongoDB's
`ClientSession.with_transaction` retry of TransientTransactionError (a write conflict between
concurrent transactions) and UnknownTransactionCommitResult.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask

from fhir_server.errors import Conflict, InvalidRequest
from fhir_server.search.criteria import EVERYTHING, ElementIs, of
from fhir_server.storage.mongo import MongoResourceStore
from fhir_server.storage.transactions import CLAIMS, RACE_ATTEMPTS, current_session


@pytest.fixture()
def store(make_app: Callable[..., Flask]) -> MongoResourceStore:
    """A store on a fresh database."""
    return make_app().extensions["fhir"].store.store


def test_work_commits_together_or_not_at_all(store: MongoResourceStore) -> None:
    def failing() -> None:
        store.create("Patient", {"resourceType": "Patient", "gender": "male"})
        raise InvalidRequest("the second step is refused")

    with pytest.raises(InvalidRequest):
        store.transact(failing)
    assert store.count("Patient", EVERYTHING) == 0 and current_session() is None
    made = store.transact(lambda: [store.create("Patient", {"resourceType": "Patient"}).id
                                   for _ in range(3)])
    assert store.count("Patient", EVERYTHING) == 3 and len(set(made)) == 3


def test_a_lost_race_is_re_run_then_reported(store: MongoResourceStore) -> None:
    calls: list[int] = []

    def racing() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise Conflict("created concurrently")
        return store.create("Patient", {"resourceType": "Patient"}).id

    assert store.transact(racing) and len(calls) == 3
    calls.clear()

    def always() -> None:
        calls.append(1)
        raise Conflict("never settles")

    with pytest.raises(Conflict):
        store.transact(always)
    assert len(calls) == RACE_ATTEMPTS


def test_nested_units_join_the_open_transaction(store: MongoResourceStore) -> None:
    def outer() -> None:
        session = current_session()
        store.transact(lambda: store.create("Patient", {"resourceType": "Patient"}))
        assert current_session() is session
        raise InvalidRequest("roll everything back")

    with pytest.raises(InvalidRequest):
        store.transact(outer)
    assert store.count("Patient", EVERYTHING) == 0


def test_concurrent_claims_on_one_key_serialise(store: MongoResourceStore) -> None:
    # 8 threads claim the same criteria and create only when no Patient carries it yet: the
    # claim makes their transactions conflict, the driver re-runs the losers, exactly 1 results
    def claim_then_create() -> None:
        def unit() -> None:
            store.claim("Patient?identifier=urn%3Acccd%7C42")
            if store.count("Patient", of(ElementIs("identifier.value", "42"))) == 0:
                store.create("Patient", {"resourceType": "Patient",
                                         "identifier": [{"system": "urn:cccd", "value": "42"}]})
        store.transact(unit)

    with ThreadPoolExecutor(8) as pool:
        for future in [pool.submit(claim_then_create) for _ in range(8)]:
            future.result()
    assert store.count("Patient", EVERYTHING) == 1
    assert store.db[CLAIMS].find_one({"_id": "Patient?identifier=urn%3Acccd%7C42"})["n"] == 8
