"""Identifiers unique per system (a CCCD names one person): kept by a unique database index.

A stored document of a type with unique identifier systems carries `uq`, the `system|value`
keys of those identifiers; a unique sparse multikey index on `uq` makes a second resource with
the same key fail in the database itself (no read-then-write race, also on a sharded or
replicated MongoDB). The collision becomes a 409 naming the resource that holds the key.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError, OperationFailure

from fhir_server.errors import Conflict, FhirError

log = logging.getLogger(__name__)
FIELD = "uq"
INDEX = "unique_identifiers"
UniqueSystems = Mapping[str, tuple[str, ...]]  # resource type -> identifier systems


class DuplicateIdentifier(Conflict):
    """409: a unique identifier is held by another resource (not retried: it stays so)."""


def unique_keys(resource: Mapping[str, Any], systems: tuple[str, ...]) -> list[str]:
    """The `system|value` keys of a resource's identifiers in the unique systems."""
    keys = []
    for identifier in resource.get("identifier") or ():
        if isinstance(identifier, Mapping) and identifier.get("system") in systems and \
                isinstance(identifier.get("value"), str):
            key = f"{identifier['system']}|{identifier['value']}"
            if key not in keys:
                keys.append(key)
    return keys


def ensure_unique_index(collection: Collection[dict[str, Any]]) -> None:
    """The unique index; stored duplicates (data from before the rule) are logged, not fatal."""
    try:
        collection.create_index([(FIELD, ASCENDING)], unique=True, sparse=True, name=INDEX)
    except OperationFailure as exc:
        log.error("identifiers of %s are not unique yet (%s): resolve the duplicates; "
                  "until then a second resource with the same identifier is not refused",
                  collection.name, exc)


def is_unique_collision(exc: DuplicateKeyError) -> bool:
    """True when a duplicate key error comes from the unique-identifier index."""
    details = exc.details or {}
    pattern = details.get("keyPattern") or {}
    return FIELD in pattern or INDEX in str(details.get("errmsg") or exc)


def collision(collection: Collection[dict[str, Any]], type_name: str,
              resource: Mapping[str, Any], keys: list[str], own_id: str) -> FhirError:
    """The 409 for a resource whose unique identifier another resource holds (looked up
    outside any transaction: a write error has aborted it)."""
    holder = collection.find_one({FIELD: {"$in": keys}, "_id": {"$ne": own_id}}, {FIELD: 1})
    taken = next((k for k in keys if holder and k in holder.get(FIELD, ())), keys[0])
    where = next((f"{type_name}.identifier[{i}]"
                  for i, ident in enumerate(resource.get("identifier") or ())
                  if isinstance(ident, Mapping)
                  and f"{ident.get('system')}|{ident.get('value')}" == taken),
                 f"{type_name}.identifier")
    name = f"{type_name}/{holder['_id']}" if holder else f"another {type_name}"
    return DuplicateIdentifier.at(f"The identifier {taken} belongs to {name} already: one person, "
                       "one record (update that one, or use $match to find it)", where,
                       "duplicate")
