"""Recompute the `idx` document of stored resources (after the search parameters or the
extraction change, or for data written before search existed)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pymongo import UpdateOne
from pymongo.database import Database

from fhir_server.search.extract import SearchIndexer

BATCH = 500


def reindex(db: Database, type_names: Iterable[str], indexer: SearchIndexer) -> int:
    """Rewrite `idx` of every current resource of these types; returns how many were done."""
    done = 0
    for type_name in type_names:
        collection = db[type_name]
        batch: list[UpdateOne] = []
        for doc in collection.find({}, {"res": 1, "vid": 1}):
            resource: dict[str, Any] | None = doc.get("res")
            if resource is None:
                continue
            # only if the version is unchanged, so a concurrent write is never overwritten
            batch.append(UpdateOne({"_id": doc["_id"], "vid": doc["vid"]},
                                   {"$set": {"idx": indexer(resource)}}))
            if len(batch) >= BATCH:
                done += collection.bulk_write(batch, ordered=False).modified_count
                batch = []
        if batch:
            done += collection.bulk_write(batch, ordered=False).modified_count
    return done
