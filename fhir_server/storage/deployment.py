"""What a deployment asks of the database before traffic (issue 16 point 1): are the indexes
built (`fhir-server indexes` builds them), what kind of server is it, is demo data left over."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pymongo.database import Database
from pymongo.errors import PyMongoError

from fhir_server.storage.auth_records import AccountRecords
from fhir_server.storage.readiness import missing_indexes


def index_counts(db: Database[Any]) -> dict[str, int]:
    """Collection -> how many indexes it has (the summary of `fhir-server indexes`)."""
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
