"""Single-version types (storage/single_version.py): the AuditEvent trail is stored without a
history copy, and vread and history (instance, type, system, `_since`, `_at`) still show each
event as its version 1 (FHIR R4 http.html#vread, #history: every version a server keeps is
in its history), beside the logged versions of other types in the system history.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from fhir_server.access import APPEND_ONLY
from fhir_server.errors import NotFound
from fhir_server.storage.mongo import HISTORY, MongoResourceStore
from fhir_server.storage.search_indexes import reindex
from fhir_server.storage.single_version import SINGLE_VERSION

LATER = datetime(9999, 1, 1, tzinfo=UTC)


@pytest.fixture()
def store(make_app: Callable[..., Flask]) -> MongoResourceStore:
    """A store on a fresh database."""
    return make_app().extensions["fhir"].store.store


def _event(n: int) -> dict[str, object]:
    return {"resourceType": "AuditEvent", "id": f"ev-{n}", "recorded": "2026-12-04T10:00:00Z",
            "type": {"code": "rest"}, "agent": [{"requestor": True}],
            "source": {"observer": {"display": "t"}}}


def test_the_single_version_types_are_the_append_only_ones() -> None:
    assert SINGLE_VERSION == APPEND_ONLY  # never updated nor deleted: v1 is the whole history


def test_events_have_no_history_copy_and_still_their_version(store: MongoResourceStore) -> None:
    store.create_many_with_ids("AuditEvent", [_event(1), _event(2)])
    made = store.create_many("AuditEvent", [_event(3)])[0]
    one = store.create("AuditEvent", _event(4))
    assert store.db[HISTORY].count_documents({"t": "AuditEvent"}) == 0
    assert store.db["AuditEvent"].count_documents({}) == 4
    found = store.vread("AuditEvent", "ev-1", 1)
    assert found.version == 1 and found.method == "POST" and found.resource is not None
    assert store.vread("AuditEvent", made.id, 1).id == made.id
    with pytest.raises(NotFound):
        store.vread("AuditEvent", one.id, 2)
    instance = store.history("AuditEvent", "ev-2", since=None, until=LATER, offset=0, count=5)
    assert [(v.id, v.version) for v in instance.versions] == [("ev-2", 1)] and \
        instance.total == 1
    typed = store.history("AuditEvent", None, since=None, until=LATER, offset=1, count=2)
    assert typed.total == 4 and len(typed.versions) == 2
    newest_first = [v.last_updated for v in typed.versions]
    assert newest_first == sorted(newest_first, reverse=True)


def test_system_history_merges_logged_and_single_version(store: MongoResourceStore) -> None:
    patient = store.create("Patient", {"resourceType": "Patient"})
    store.create_many_with_ids("AuditEvent", [_event(5)])
    store.update("Patient", patient.id, {"resourceType": "Patient", "gender": "male"})
    every = store.history(None, None, since=None, until=LATER, offset=0, count=10)
    assert [(v.type, v.version) for v in every.versions] == [
        ("Patient", 2), ("AuditEvent", 1), ("Patient", 1)]
    assert every.total == 3
    second = store.history(None, None, since=None, until=LATER, offset=1, count=1)
    assert [(v.type, v.version) for v in second.versions] == [
        ("AuditEvent", 1)] and second.total == 3
    event_time = every.versions[1].last_updated
    since = store.history(None, None, since=event_time - timedelta(milliseconds=1),
                          until=LATER, offset=0, count=10)
    assert [(v.type, v.version) for v in since.versions] == [("Patient", 2), ("AuditEvent", 1)]
    at = store.history(None, None, since=None, until=LATER, offset=0, count=10,
                       at=(event_time, event_time + timedelta(milliseconds=1)))
    assert ("AuditEvent", 1) in [(v.type, v.version) for v in at.versions]


def test_old_history_copies_are_not_shown_twice(store: MongoResourceStore) -> None:
    store.create_many_with_ids("AuditEvent", [_event(6)])
    stored = store.db["AuditEvent"].find_one({"_id": "ev-6"})
    assert stored is not None
    store.db[HISTORY].insert_one({"_id": "AuditEvent/ev-6/1", "t": "AuditEvent", "i": "ev-6",
                                  "v": 1, "ts": stored["ts"], "m": "POST", "res": stored["res"]})
    every = store.history(None, None, since=None, until=LATER, offset=0, count=10)
    assert [(v.type, v.id) for v in every.versions] == [("AuditEvent", "ev-6")]
    assert store.indexer is not None
    reindex(store.db, ["AuditEvent"], store.indexer)  # the upgrade step drops the copies
    assert store.db[HISTORY].count_documents({"t": "AuditEvent"}) == 0
    assert store.history("AuditEvent", "ev-6", since=None, until=LATER, offset=0,
                         count=1).total == 1
