"""Session and client stores (storage/session_records.py) against the real server: a refresh
token is spent once and an assertion id is accepted once, whatever the number of threads;
revocation drops a session's refresh tokens and lists it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.database import Database

from fhir_server.storage.session_records import ClientRecord, ClientRecords, SessionRecords
from tests.storage.races import race

NOW = datetime.now(UTC).replace(microsecond=0)  # real time: the TTL monitor runs on it


@pytest.fixture(autouse=True)
def _fresh_now() -> None:
    """NOW taken again when each test starts: taken at import it is minutes old by the time a
    long run reaches this file, and the TTL monitor removes records that expire from it."""
    global NOW
    NOW = datetime.now(UTC).replace(microsecond=0)


def test_refresh_token_is_spent_once(db: Database[Any]) -> None:
    sessions = SessionRecords(db)
    sessions.ensure_indexes()
    sessions.add_refresh("d1", "s1", "acct-1", NOW + timedelta(days=30))
    spent = [r for r in race(lambda n: sessions.spend_refresh("d1")) if r]
    assert len(spent) == 1 and spent[0].used and spent[0].session == "s1"
    again = sessions.find_refresh("d1")
    assert again is not None and again.used and again.account == "acct-1"
    assert sessions.spend_refresh("unknown") is None and sessions.find_refresh("x") is None


def test_revoke(db: Database[Any]) -> None:
    sessions = SessionRecords(db)
    for digest, sid in (("d1", "s1"), ("d2", "s1"), ("d3", "s2")):
        sessions.add_refresh(digest, sid, "acct-1", NOW + timedelta(days=30))
    assert sorted(sessions.sessions_of("acct-1")) == ["s1", "s2"]
    sessions.revoke("s1", NOW + timedelta(minutes=11))
    sessions.revoke("s1", NOW + timedelta(minutes=12))  # again: still one entry
    assert sessions.revoked_sessions() == frozenset({"s1"})
    assert sessions.find_refresh("d1") is None and sessions.find_refresh("d3") is not None


def test_clients_and_assertions(db: Database[Any]) -> None:
    clients = ClientRecords(db)
    clients.ensure_indexes()
    client = ClientRecord("c1", "Registry", {"keys": [{"kty": "EC"}]}, "system/*.read")
    assert clients.insert(client) and not clients.insert(client)
    assert clients.get("c1") == client and clients.get("c2") is None
    accepted = race(lambda n: clients.remember_assertion("c1:jti", NOW))
    assert accepted.count(True) == 1
