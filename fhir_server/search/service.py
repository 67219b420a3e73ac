"""Search entry points used by the interactions (search-type, conditional operations).

Stopgap until full search lands: `_id` and `identifier` only, matched exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fhir_server.errors import InvalidRequest
from fhir_server.storage.base import ResourceStore, StoredVersion

SUPPORTED = ("_id", "identifier")


def _identifier_clause(value: str) -> dict[str, Any]:
    if "|" not in value:
        return {"res.identifier": {"$elemMatch": {"value": value}}}
    system, code = value.split("|", 1)
    match: dict[str, Any] = {}
    if system:
        match["system"] = system
    else:
        match["system"] = {"$exists": False}
    if code:
        match["value"] = code
    return {"res.identifier": {"$elemMatch": match}}


def compile_query(params: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Compile (name, value) pairs to a Mongo filter; unknown parameters are rejected."""
    clauses: list[dict[str, Any]] = []
    for name, value in params:
        values = [v for v in value.split(",")]
        if name == "_id":
            clauses.append({"_id": {"$in": values}})
        elif name == "identifier":
            clauses.append({"$or": [_identifier_clause(v) for v in values]})
        else:
            raise InvalidRequest.at(f"Search parameter '{name[:80]}' is not supported here",
                                    name[:80], "not-supported")
    if not clauses:
        return {}
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class SearchService:
    """Finds current resources by search parameters."""

    def __init__(self, store: ResourceStore) -> None:
        self.store = store

    def match(self, type_name: str, params: Sequence[tuple[str, str]],
              limit: int = 2) -> list[StoredVersion]:
        """Resources matching the criteria of a conditional interaction (at most `limit`)."""
        if not params:
            raise InvalidRequest("A conditional interaction needs search criteria")
        return list(self.store.find(type_name, compile_query(params), limit=limit))
