"""What a deployment asks of the database before traffic (issue 16 point 1): every index built
at once (`fhir-server indexes`), the kind of server it is, and leftovers of demo data.

The index set is exactly the one the app factory ensures at start: the store's (`ts`, the unique
national identifiers, `history`), the search indexes of every type, and the typed stores'
(accounts, codes, counters, sessions, clients, SMART launch records, outbox, health cards).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo.database import Database
from pymongo.errors import PyMongoError

from fhir_server.storage.auth_records import AccountRecords
from fhir_server.storage.auth_stores import open_auth_stores
from fhir_server.storage.card_records import CardRecords
from fhir_server.storage.launch_records import open_launch_stores
from fhir_server.storage.mongo import MongoResourceStore
from fhir_server.storage.readiness import missing_indexes
from fhir_server.storage.search_indexes import ensure_search_indexes
from fhir_server.storage.unique_identifiers import UniqueSystems


def create_all_indexes(db: Database[Any], type_names: Sequence[str],
                       date_codes: Mapping[str, Iterable[str]],
                       unique: UniqueSystems | None = None) -> dict[str, int]:
    """Create every index the server uses (idempotent); collection -> how many it has."""
    MongoResourceStore(db, lambda: datetime.now(UTC), None, unique).ensure_indexes(type_names)
    ensure_search_indexes(db, date_codes)
    open_auth_stores(db)
    open_launch_stores(db)
    CardRecords(db)  # its index is made by the constructor
    return {name: len(db[name].index_information())
            for name in sorted(db.list_collection_names())}


def all_missing_indexes(db: Database[Any], type_names: Sequence[str]) -> list[str]:
    """`collection.index` names of the store's and search indexes not built yet (all types)."""
    return missing_indexes(db, tuple(type_names))


def server_kind(db: Database[Any]) -> str:
    """`replica-set`, `sharded` (a mongos) or `standalone`, from the server's `hello`."""
    hello = db.command("hello")
    if hello.get("msg") == "isdbgrid":
        return "sharded"
    return "replica-set" if hello.get("setName") else "standalone"


def database_error(db: Database[Any]) -> str | None:
    """None when the database answers a ping, else the driver's reason in one line."""
    try:
        db.command("ping")
    except PyMongoError as error:
        return f"{error.__class__.__name__}: {str(error).splitlines()[0][:200]}"
    return None


def accounts_with_phones(db: Database[Any], phones: Iterable[str]) -> list[str]:
    """Which of these (normalised) phone numbers have an account."""
    records = AccountRecords(db)
    return [phone for phone in phones if records.find_by_phone(phone) is not None]


def present_ids(db: Database[Any], type_name: str, ids: Sequence[str]) -> list[str]:
    """Which of these ids have a current version of this type."""
    found = {doc["_id"] for doc in db[type_name].find({"_id": {"$in": list(ids)}}, {"_id": 1})}
    return [resource_id for resource_id in ids if resource_id in found]
