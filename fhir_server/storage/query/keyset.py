"""Sort keys and keyset paging conditions on the stored layout (search/paging.py keeps the
cursor; this module knows where each sort key is stored)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fhir_server.search.criteria import After, Sort, SortKey
from fhir_server.storage.query.base import Part


def sort_field(key: SortKey) -> str:
    """The stored field a sort key orders by (a parameter's ascending or descending key)."""
    code, direction = key
    if code == "_id":
        return "_id"
    if code == "_lastUpdated":
        return "ts"
    return f"idx.s.{code}.{'a' if direction > 0 else 'd'}"


def sort_spec(sort: Sort | None) -> list[tuple[str, int]]:
    """The driver's sort specification for a Sort (directions flipped when backward)."""
    if sort is None:
        return []
    flip = -1 if sort.backward else 1
    return [(sort_field(key), key[1] * flip) for key in sort.keys]


def _after(name: str, direction: int, value: Any) -> dict[str, Any] | None:
    """Items strictly after `value` in this field's order (None sorts first ascending)."""
    if value is None:
        return {name: {"$ne": None}} if direction > 0 else None
    if direction > 0:
        return {name: {"$gt": value}}
    return {name: {"$not": {"$gte": value}}}


def keyset_part(after: After) -> Part:
    """The condition for the items after (or before) the cursor's boundary item."""
    keys: Sequence[SortKey] = after.sort
    directions = [d if after.forward else -d for _code, d in keys]
    names = [sort_field(key) for key in keys]
    values = after.values
    if len(names) == 1:
        return Part(exact={"_id": {"$gt" if directions[0] > 0 else "$lt": values[0]}}, rank=98)
    if len(names) == 2 and after.forward and after.ties and values[0] is not None:
        first = {"$gte": values[0]} if directions[0] > 0 else {"$not": {"$gt": values[0]}}
        return Part(exact={names[0]: first, "_id": {"$nin": list(after.ties)}}, rank=98)
    branches = []
    for index, name in enumerate(names):
        condition = _after(name, directions[index], values[index])
        if condition is None:
            continue
        equal = {names[i]: values[i] for i in range(index)}
        branches.append({**equal, **condition} if not set(equal) & set(condition) else
                        {"$and": [equal, condition]})
    if not branches:
        return Part(exact={"_id": {"$in": []}}, rank=0)
    return Part(raw=[{"$or": branches}], rank=98)
