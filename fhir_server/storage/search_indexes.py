"""The search side of the stored layout: the indexes search queries use, and re-extraction.

Per type: one multikey index on the shared keys `idx.k` (tokens, references, uris, strings,
date buckets, composites: equality and prefix hints), and for each date parameter one index
on `idx.p.<code>.lo` and one on `idx.p.<code>.hi` (one-sided date comparisons). `_id` and
`ts` (_lastUpdated) are indexed by the store. `reindex` recomputes the `idx` document of stored
resources (after the search parameters or the extraction change, or for data written before
search existed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.database import Database

from fhir_server.storage.base import Indexer
from fhir_server.storage.decimals import decimal_db
from fhir_server.storage.query.index_document import index_document

BATCH = 500


def index_specs(type_name: str, date_codes: Iterable[str]) -> list[tuple[str, str]]:
    """(index name, field) pairs of one type's search indexes."""
    specs = [("search_keys", "idx.k")]
    for code in date_codes:
        specs.append((f"search_{code}_lo", f"idx.p.{code}.lo"))
        specs.append((f"search_{code}_hi", f"idx.p.{code}.hi"))
    return specs


def ensure_search_indexes(db: Database[Any], date_codes: Mapping[str, Iterable[str]]) -> None:
    """Create the search indexes of each type (given its date parameters); a no-op for those
    that exist."""
    for type_name, codes in date_codes.items():
        for name, field in index_specs(type_name, codes):
            db[type_name].create_index([(field, ASCENDING)], name=name)


def reindex(db: Database[Any], type_names: Iterable[str],
            indexer: Indexer) -> int:
    """Rewrite `idx` of every current resource of these types; returns how many were done."""
    done = 0
    for type_name in type_names:
        collection = decimal_db(db)[type_name]  # extraction sees decimals as stored
        batch: list[UpdateOne] = []
        for doc in collection.find({}, {"res": 1, "vid": 1}):
            resource: dict[str, Any] | None = doc.get("res")
            if resource is None:
                continue
            # only if the version is unchanged, so a concurrent write is never overwritten
            batch.append(UpdateOne({"_id": doc["_id"], "vid": doc["vid"]},
                                   {"$set": {"idx": index_document(indexer.entries(resource))}}))
            if len(batch) >= BATCH:
                done += collection.bulk_write(batch, ordered=False).modified_count
                batch = []
        if batch:
            done += collection.bulk_write(batch, ordered=False).modified_count
    return done
