"""SMART launch stores (storage/launch_records.py, app_client_records.py) against the real
server: a sign-in moves on from one step once, a code and an app refresh token are spent
once whatever the number of threads, a revoked session's refresh tokens go; app clients are
registered once and listed and removed; backend clients are listed and removed too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.database import Database

from fhir_server.storage.app_client_records import PUBLIC, AppClient, AppClientRecords
from fhir_server.storage.launch_records import open_launch_stores
from fhir_server.storage.session_records import ClientRecord, ClientRecords
from tests.storage.races import race


def later(minutes: int = 15) -> datetime:
    """An expiry in real time from now (the TTL monitor runs on it): taken when the test
    runs, not at import, which is minutes earlier in a long parallel run."""
    return datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=minutes)


def test_a_sign_in_advances_once_per_step(db: Database[Any]) -> None:
    _, launches = open_launch_stores(db)
    launches.add_request({"_id": "r1", "step": "login", "expires": later()})
    moved = [r for r in race(lambda n: launches.advance("r1", "login", {
        "step": "consent", "account": f"a{n}"})) if r]
    assert len(moved) == 1 and moved[0]["step"] == "consent"
    assert launches.get_request("r1") == moved[0]
    assert launches.advance("r1", "login", {"step": "consent"}) is None
    finished = [r for r in race(lambda n: launches.finish_request("r1", "consent")) if r]
    assert len(finished) == 1 and launches.get_request("r1") is None


def test_a_code_is_spent_once(db: Database[Any]) -> None:
    _, launches = open_launch_stores(db)
    launches.add_code({"_id": "c1", "client": "app", "expires": later(1)})
    spent = [r for r in race(lambda n: launches.spend_code("c1")) if r]
    assert len(spent) == 1 and spent[0]["used"] is True
    found = launches.find_code("c1")
    assert found is not None and found["used"] is True
    assert launches.spend_code("c1") is None and launches.find_code("nope") is None


def test_an_app_refresh_token_is_spent_once_and_goes_with_its_session(
        db: Database[Any]) -> None:
    _, launches = open_launch_stores(db)
    for digest, sid in (("t1", "s1"), ("t2", "s1"), ("t3", "s2")):
        launches.add_refresh({"_id": digest, "sid": sid, "expires": later()})
    assert len([r for r in race(lambda n: launches.spend_refresh("t1")) if r]) == 1
    launches.drop_session("s1")
    assert launches.find_refresh("t1") is None and launches.find_refresh("t2") is None
    assert launches.find_refresh("t3") is not None


def test_app_clients(db: Database[Any]) -> None:
    apps = AppClientRecords(db)
    app = AppClient("app", "App", PUBLIC, ("https://a.example/cb",), "patient/*.rs")
    assert apps.insert(app) and not apps.insert(app)
    assert apps.get("app") == app and apps.get("other") is None and apps.all() == [app]
    assert apps.remove("app") and not apps.remove("app") and apps.all() == []


def test_backend_clients_listed_and_removed(db: Database[Any]) -> None:
    clients = ClientRecords(db)
    client = ClientRecord("c1", "Registry", {"keys": [{"kty": "EC"}]}, "system/*.read")
    assert clients.insert(client) and clients.all() == [client]
    assert clients.remove("c1") and not clients.remove("c1") and clients.all() == []
