"""Types stored without a history copy: their resources have one version, never changed or
deleted (the AuditEvent trail: written by the server only, access.APPEND_ONLY), so the current
collection is their history. Saves each write the history insert and its four index entries
(issue 17 point 3); vread and history read these types from the current collection.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import DESCENDING
from pymongo.collection import Collection

from fhir_server.storage.base import HistoryPage, StoredVersion
from fhir_server.storage.transactions import current_session

SINGLE_VERSION = frozenset({"AuditEvent"})
HISTORY = "history"  # the collection of every other version (mongo.py)
FIELDS = {"res": 1, "vid": 1, "ts": 1}
ONE_MS = timedelta(milliseconds=1)


def is_single_version(type_name: str | None) -> bool:
    """True for a type whose history is its current collection."""
    return type_name in SINGLE_VERSION


def as_version(type_name: str, doc: dict[str, Any]) -> StoredVersion:
    """A current document as the history entry it stands for."""
    version = int(doc["vid"])
    return StoredVersion(type_name, str(doc["_id"]), version, doc["ts"].replace(tzinfo=UTC),
                         doc["res"], "POST" if version == 1 else "PUT")


def vread(current: Collection[dict[str, Any]], type_name: str, resource_id: str,
          version: int) -> StoredVersion | None:
    """The version if it is the current one (None otherwise)."""
    doc = current.find_one({"_id": resource_id, "vid": version}, FIELDS,
                           session=current_session())
    return None if doc is None else as_version(type_name, doc)


def history(current: Collection[dict[str, Any]], type_name: str, resource_id: str | None, *,
            since: datetime | None, until: datetime, offset: int, count: int,
            at: tuple[datetime, datetime] | None = None) -> HistoryPage:
    """Versions newest first from the current collection, like the store's history: written in
    (since, until], or with `at` the ones current during it (written before its end)."""
    query: dict[str, Any] = {} if resource_id is None else {"_id": resource_id}
    if at is not None:
        query["ts"] = {"$lt": min(at[1], until + ONE_MS)}
    else:
        query["ts"] = {"$lte": until, **({"$gt": since} if since is not None else {})}
    session = current_session()
    total = current.count_documents(query, session=session)
    if count <= 0:
        return HistoryPage([], total)
    cursor = current.find(query, FIELDS, session=session).sort(
        [("ts", DESCENDING), ("_id", DESCENDING)]).skip(offset).limit(count)
    return HistoryPage([as_version(type_name, doc) for doc in cursor], total)


def merge(pages: Iterable[HistoryPage], offset: int, count: int) -> HistoryPage:
    """Pages of the first offset+count versions of several sources as one page, newest first
    (the history's order: lastUpdated, then Type/id/version, descending)."""
    every: list[StoredVersion] = []
    total = 0
    for page in pages:
        every.extend(page.versions)
        total += page.total
    every.sort(key=lambda v: (v.last_updated, f"{v.type}/{v.id}/{v.version}"), reverse=True)
    return HistoryPage(every[offset:offset + count], total)
