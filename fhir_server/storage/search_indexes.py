"""The search side of the stored layout: the indexes search queries use, and re-extraction.

Per type: one multikey index on the shared keys `idx.k` (token codes, references, uris,
strings, composites: equality and prefix hints; query/index_document.py), and for each date
parameter one index on `idx.p.<code>.lo` and one on `idx.p.<code>.hi` (date comparisons), all
sparse. `_id` and
`ts` (_lastUpdated) are indexed by the store. `reindex` recomputes the `idx` document of stored
resources (after the search parameters or the extraction change, or for data written before
search existed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import suppress
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.database import Database
from pymongo.errors import OperationFailure

from fhir_server.storage.base import Indexer
from fhir_server.storage.decimals import decimal_db
from fhir_server.storage.locality import PATIENT_FIELD, patient_of
from fhir_server.storage.query.index_document import index_document
from fhir_server.storage.single_version import HISTORY, is_single_version

BATCH = 500
OPTIONS_CONFLICT = (85, 86)  # IndexOptionsConflict, IndexKeySpecsConflict


def index_specs(type_name: str, date_codes: Iterable[str]) -> list[tuple[str, str]]:
    """(index name, field) pairs of one type's search indexes."""
    specs = [("search_keys", "idx.k")]
    for code in date_codes:
        specs.append((f"search_{code}_lo", f"idx.p.{code}.lo"))
        specs.append((f"search_{code}_hi", f"idx.p.{code}.hi"))
    return specs


def ensure_search_indexes(db: Database[Any], date_codes: Mapping[str, Iterable[str]]) -> None:
    """Create the search indexes of each type (given its date parameters), sparse: a resource
    without the field gets no entry (no query on them matches a missing field). A no-op for
    those that exist; one made by an earlier layout (not sparse) is rebuilt sparse."""
    for type_name, codes in date_codes.items():
        collection = db[type_name]
        for name, field in index_specs(type_name, codes):
            try:
                collection.create_index([(field, ASCENDING)], name=name, sparse=True)
            except OperationFailure as exc:
                if exc.code not in OPTIONS_CONFLICT:
                    raise
                with suppress(OperationFailure):  # another server may have dropped it
                    collection.drop_index(name)
                collection.create_index([(field, ASCENDING)], name=name, sparse=True)


def reindex(db: Database[Any], type_names: Iterable[str],
            indexer: Indexer) -> int:
    """Rewrite `idx` of every current resource of these types (and drop the history copies of
    single-version types, storage/single_version.py); returns how many were done."""
    done = 0
    for type_name in type_names:
        if is_single_version(type_name):
            db[HISTORY].delete_many({"t": type_name})
        collection = decimal_db(db)[type_name]  # extraction sees decimals as stored
        batch: list[UpdateOne] = []
        for doc in collection.find({}, {"res": 1, "vid": 1, PATIENT_FIELD: 1}):
            resource: dict[str, Any] | None = doc.get("res")
            if resource is None:
                continue
            # only if the version is unchanged, so a concurrent write is never overwritten
            index = index_document(indexer.entries(resource))
            patient = patient_of(type_name, index)
            change: dict[str, Any] = {"$set": {"idx": index, PATIENT_FIELD: patient}} \
                if patient is not None else {"$set": {"idx": index}, "$unset": {PATIENT_FIELD: 1}}
            # the stored `pat` in the filter: a sharded cluster changes a shard key value so
            batch.append(UpdateOne({"_id": doc["_id"], "vid": doc["vid"],
                                    PATIENT_FIELD: doc.get(PATIENT_FIELD)}, change))
            if len(batch) >= BATCH:
                done += collection.bulk_write(batch, ordered=False).modified_count
                batch = []
        if batch:
            done += collection.bulk_write(batch, ordered=False).modified_count
    return done
