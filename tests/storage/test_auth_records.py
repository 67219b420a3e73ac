"""The auth stores (storage/auth_records.py, storage/auth_stores.py) against the real server:
unique accounts (a duplicate insert answers False, also when 16 threads race), one-time codes
used at most once and within their attempt limit, and the TTL and unique indexes in place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.database import Database

from fhir_server.storage.auth_records import (
    ACCOUNTS,
    ACTIVE,
    OTPS,
    PENDING,
    REGISTRATIONS,
)
from fhir_server.storage.auth_stores import AuthStores, open_auth_stores
from fhir_server.storage.counters import BACKOFF, THROTTLE
from fhir_server.storage.outbox_records import OUTBOX
from fhir_server.storage.session_records import REFRESH, REVOKED, USED_JTI
from tests.storage.races import race

NOW = datetime.now(UTC).replace(microsecond=0)  # real time: the TTL monitor runs on it


@pytest.fixture(autouse=True)
def _fresh_now() -> None:
    """NOW taken again when each test starts: taken at import it is minutes old by the time a
    long run reaches this file, and the TTL monitor removes records that expire from it."""
    global NOW
    NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture()
def stores(db: Database[Any]) -> AuthStores:
    return open_auth_stores(db)


def _account(account_id: str, phone: str, **extra: Any) -> dict[str, Any]:
    return {"_id": account_id, "phone": phone, "kind": "citizen", "status": ACTIVE, **extra}


def test_indexes(stores: AuthStores, db: Database[Any]) -> None:
    def keyed(collection: str) -> dict[str, dict[str, Any]]:
        return {"_".join(k for k, _ in info["key"]): info
                for info in db[collection].index_information().values()}

    ttl = {THROTTLE: ("expires", 0), BACKOFF: ("expires", 0), REGISTRATIONS: ("expires", 0),
           OTPS: ("expires", 3600), REFRESH: ("expires", 0), REVOKED: ("until", 0),
           USED_JTI: ("expires", 0)}
    for collection, (field, seconds) in ttl.items():
        assert keyed(collection)[field]["expireAfterSeconds"] == seconds, collection
    accounts = keyed(ACCOUNTS)
    assert accounts["phone"]["unique"] and accounts["bhxh"]["unique"]
    assert accounts["bhxh"]["sparse"]
    assert "status_next_try" in keyed(OUTBOX)
    assert {"sid", "account"} <= set(keyed(REFRESH))  # logout, reset: no collection scan
    stores.ensure_indexes()  # idempotent


def test_duplicate_account_insert_is_false(stores: AuthStores) -> None:
    accounts = stores.accounts
    assert accounts.insert(_account("a1", "+84900000001", bhxh="0123456789"))
    assert not accounts.insert(_account("a2", "+84900000001"))  # same phone
    assert not accounts.insert(_account("a3", "+84900000003", bhxh="0123456789"))  # same bhxh
    assert not accounts.insert(_account("a1", "+84900000004"))  # same id
    assert accounts.insert(_account("a5", "+84900000005"))  # no bhxh: sparse
    assert accounts.insert(_account("a6", "+84900000006"))
    found = accounts.find_by_phone("+84900000001")
    assert found is not None and found["_id"] == "a1"
    assert accounts.find_by_phone("+84900000003") is None


def test_parallel_inserts_of_one_phone_make_one_account(stores: AuthStores) -> None:
    won = race(lambda n: stores.accounts.insert(_account(f"p{n}", "+84911111111")))
    assert won.count(True) == 1
    assert stores.accounts.find_by_phone("+84911111111") is not None


def test_account_queries_and_changes(stores: AuthStores) -> None:
    accounts = stores.accounts
    accounts.insert(_account("x", "+84922222222", bhxh="1111111111", status=PENDING))
    assert not accounts.phone_taken("+84922222222")  # pending only
    assert accounts.find_active_by_phone("+84922222222") is None
    assert accounts.bhxh_taken_by_other("1111111111", "+84933333333")
    assert not accounts.bhxh_taken_by_other("1111111111", "+84922222222")
    activated = accounts.activate("x", "pat-x")
    assert activated is not None and activated["status"] == ACTIVE
    assert activated["patient"] == "pat-x" and activated["family"] == []
    assert accounts.phone_taken("+84922222222")
    assert accounts.find_by_bhxh("1111111111") == accounts.get("x")
    family = accounts.add_family("x", "kid")
    assert accounts.add_family("x", "kid") == family and family and family["family"] == ["kid"]
    accounts.record_login("x", NOW)
    accounts.set_password("x", "hash-2")
    changed = accounts.get("x") or {}
    assert changed["password"] == "hash-2" and changed["last_login"] == NOW
    accounts.insert(_account("old", "+84944444444", status=PENDING))
    accounts.delete_pending_by_phone("+84944444444")
    accounts.delete("x")
    assert accounts.get("old") is None and accounts.get("x") is None


def test_registrations_live_until_they_expire(stores: AuthStores) -> None:
    records = stores.registrations
    records.insert("reg-1", {"phone": "+84955555555"}, NOW + timedelta(minutes=30))
    records.insert("reg-2", {"phone": "+84955555555"}, NOW + timedelta(minutes=30))
    found = records.find_live("reg-1", NOW)
    assert found is not None and found["phone"] == "+84955555555"
    assert records.find_live("reg-1", NOW + timedelta(hours=1)) is None
    records.delete_for_phone("+84955555555")
    assert records.find_live("reg-2", NOW) is None


def test_otp_attempts_are_limited_under_threads(stores: AuthStores) -> None:
    otps = stores.otps
    otps.put("register:r", "digest", NOW)
    taken = race(lambda n: otps.take_attempt("register:r", 5))
    records = [record for record in taken if record is not None]
    assert sorted(record.attempts for record in records) == [0, 1, 2, 3, 4]
    assert otps.take_attempt("register:r", 5) is None
    otps.put("register:r", "digest-2", NOW)  # a new code: attempts start again
    first = otps.take_attempt("register:r", 5)
    assert first is not None and first.attempts == 0 and first.digest == "digest-2"


def test_otp_is_used_once_under_threads(stores: AuthStores) -> None:
    stores.otps.put("reset:+84966666666", "h", NOW)
    used = race(lambda n: stores.otps.use("reset:+84966666666", "h"))
    assert used.count(True) == 1
    stores.otps.put("reset:+84966666666", "h2", NOW)
    assert not stores.otps.use("reset:+84966666666", "h")  # another code now
    stores.otps.delete("reset:+84966666666")
    assert stores.otps.take_attempt("reset:+84966666666", 5) is None
