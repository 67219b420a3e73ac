"""The typed stores behind auth/ and notify/, opened together on one database."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from pymongo.database import Database

from fhir_server.storage.auth_records import AccountRecords, OtpRecords, RegistrationRecords
from fhir_server.storage.counters import LoginTries, WindowCounters
from fhir_server.storage.outbox_records import OutboxRecords
from fhir_server.storage.session_records import ClientRecords, SessionRecords


@dataclass(frozen=True)
class AuthStores:
    """Accounts, registrations, codes, counters, sessions, clients and the SMS outbox."""

    accounts: AccountRecords
    registrations: RegistrationRecords
    otps: OtpRecords
    counters: WindowCounters
    login_tries: LoginTries
    sessions: SessionRecords
    clients: ClientRecords
    outbox: OutboxRecords

    def ensure_indexes(self) -> None:
        """Create every store's indexes (unique and TTL ones included); idempotent."""
        for field in fields(self):
            getattr(self, field.name).ensure_indexes()


def open_auth_stores(db: Database[Any]) -> AuthStores:
    """The auth stores on `db`, with their indexes in place."""
    stores = AuthStores(AccountRecords(db), RegistrationRecords(db), OtpRecords(db),
                        WindowCounters(db), LoginTries(db), SessionRecords(db),
                        ClientRecords(db), OutboxRecords(db))
    stores.ensure_indexes()
    return stores
