"""The MongoDB indexes search queries use, created at start-up.

Per type: one multikey index on the shared keys `idx.k` (tokens, references, uris, strings,
date buckets, composites: equality and prefix hints), and for each date parameter one index
on `idx.p.<code>.lo` and one on `idx.p.<code>.hi` (one-sided date comparisons). `_id` and
`ts` (_lastUpdated) are indexed by the store.
"""

from __future__ import annotations

from collections.abc import Iterable

from pymongo import ASCENDING
from pymongo.database import Database

from fhir_server.search.registry import date_params


def index_specs(type_name: str) -> list[tuple[str, str]]:
    """(index name, field) pairs of one type's search indexes."""
    specs = [("search_keys", "idx.k")]
    for code in date_params(type_name):
        specs.append((f"search_{code}_lo", f"idx.p.{code}.lo"))
        specs.append((f"search_{code}_hi", f"idx.p.{code}.hi"))
    return specs


def ensure_search_indexes(db: Database, type_names: Iterable[str]) -> None:
    """Create the search indexes (a no-op for those that exist)."""
    for type_name in type_names:
        for name, field in index_specs(type_name):
            db[type_name].create_index([(field, ASCENDING)], name=name)
