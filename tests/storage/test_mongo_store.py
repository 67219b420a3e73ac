"""MongoResourceStore against the real server: versions, tombstones, compare-and-set.

FHIR R4 http.html#versioning ("servers SHALL ... version ids"), #concurrency (If-Match, lost
updates), #delete (later reads give 410 Gone, history keeps the deletion).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from flask import Flask

from fhir_server.errors import Gone, NotFound, PreconditionFailed
from fhir_server.storage.mongo import HISTORY, MongoResourceStore


@pytest.fixture()
def store(make_app: Callable[..., Flask]) -> MongoResourceStore:
    """A store on a fresh database."""
    return make_app().extensions["fhir"].store.store


def test_versions_and_history_documents(store: MongoResourceStore) -> None:
    first = store.create("Patient", {"resourceType": "Patient", "gender": "male"})
    second, created = store.update("Patient", first.id, {"resourceType": "Patient",
                                                         "id": first.id, "gender": "female"})
    assert not created and second.version == 2
    assert second.last_updated > first.last_updated
    assert second.resource is not None and second.resource["meta"]["versionId"] == "2"
    assert store.db["Patient"].count_documents({}) == 1  # current versions only
    assert store.db[HISTORY].count_documents({"i": first.id}) == 2


def test_delete_tombstone_and_recreate(store: MongoResourceStore) -> None:
    first = store.create("Patient", {"resourceType": "Patient"})
    tombstone = store.delete("Patient", first.id)
    assert tombstone is not None and tombstone.deleted and tombstone.version == 2
    with pytest.raises(Gone):
        store.read("Patient", first.id)
    assert store.delete("Patient", first.id) is None
    with pytest.raises(NotFound):
        store.read("Patient", "never-there")
    again, created = store.update("Patient", first.id, {"resourceType": "Patient"})
    assert created and again.version == 3 and again.method == "PUT"


def test_concurrent_updates_never_lose_a_version(store: MongoResourceStore) -> None:
    base = store.create("Patient", {"resourceType": "Patient"})
    writers, per_writer = 6, 5
    errors: list[BaseException] = []

    def write(number: int) -> None:
        try:
            for step in range(per_writer):
                store.update("Patient", base.id, {"resourceType": "Patient", "id": base.id,
                                                  "gender": "other",
                                                  "birthDate": f"19{number}{step}-01-01"})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    final = store.read("Patient", base.id)
    assert final.version == 1 + writers * per_writer
    versions = sorted(d["v"] for d in store.db[HISTORY].find({"i": base.id}))
    assert versions == list(range(1, 2 + writers * per_writer))


def test_if_match_race_has_exactly_one_winner(store: MongoResourceStore) -> None:
    base = store.create("Patient", {"resourceType": "Patient"})
    outcomes: list[str] = []
    barrier = threading.Barrier(5)

    def write() -> None:
        barrier.wait()
        try:
            store.update("Patient", base.id, {"resourceType": "Patient", "id": base.id}, 1)
            outcomes.append("won")
        except PreconditionFailed:
            outcomes.append("412")

    threads = [threading.Thread(target=write) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["412"] * 4 + ["won"]
    assert store.read("Patient", base.id).version == 2


def test_concurrent_creates_with_one_client_id(store: MongoResourceStore) -> None:
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def write() -> None:
        barrier.wait()
        _, created = store.update("Patient", "same-id", {"resourceType": "Patient",
                                                         "id": "same-id"})
        results.append(created)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1
    assert store.read("Patient", "same-id").version == 4


def test_transaction_rolls_back(store: MongoResourceStore) -> None:
    with pytest.raises(RuntimeError), store.atomic():
        store.create("Patient", {"resourceType": "Patient"})
        raise RuntimeError("abort")
    assert store.db["Patient"].count_documents({}) == 0
    assert store.db[HISTORY].count_documents({}) == 0
