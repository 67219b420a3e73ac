"""What a clause compiles to (MongoDB conditions on the stored `idx` document), and helpers
shared by the per-type compilers.

A `Part` is one AND-ed clause: `exact` field-level conditions (correct on any MongoDB), an
optional `hint` on an indexed field that the exact conditions imply (so the store can start
from an index), `raw` top-level expressions for what cannot be written per field, and `shard`:
field tests the clause implies on the shard key (storage/locality.py), kept even when the hint
alone decides, so a sharded cluster can target them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fhir_server.errors import InvalidRequest
from fhir_server.search.normalize import STRING_KEY_LENGTH, index_key, shared_key
from fhir_server.search.params import Clause, split_escaped, unescape

SHARED = "idx.k"
NOTHING: dict[str, Any] = {"_id": {"$in": []}}


@dataclass
class Part:
    """One compiled clause."""

    exact: dict[str, Any] = field(default_factory=dict)
    raw: list[dict[str, Any]] = field(default_factory=list)
    hint: tuple[str, Any] | None = None
    hint_exact: bool = False
    rank: int = 50
    shard: dict[str, Any] = field(default_factory=dict)  # implied shard-key tests: always kept


def values_field(code: str) -> str:
    """The path of a parameter's exact values."""
    return f"idx.p.{code}"


def one_or_in(values: list[Any]) -> Any:
    """An equality test for one value, or $in for several."""
    unique = list(dict.fromkeys(values))
    return unique[0] if len(unique) == 1 else {"$in": unique}


def keyed(clause: Clause, keys: list[str], rank: int, field_name: str | None = None,
          prefix: str = "", hints: list[str] | None = None) -> Part:
    """Equality on stored keys: exact on the parameter's values, hinted by the shared index
    (on `hints` when the index holds other keys than the values, e.g. a token's code alone)."""
    if not keys:
        return Part(exact=dict(NOTHING), rank=0)
    code = clause.param.code
    index = keys if hints is None else hints
    shared = [stored_key(code, prefix + key) for key in index]
    return Part(exact={field_name or values_field(code): one_or_in(keys)},
                hint=(SHARED, one_or_in(shared)),
                hint_exact=set(index) == set(keys) and all_whole(keys, prefix), rank=rank)


def token_keyed(clause: Clause, keys: list[str], rank: int, field_name: str | None = None,
                prefix: str = "") -> Part:
    """Equality on stored token keys, hinted by their codes in the shared index (no hint when
    a `system|` value has no index key: the exact values decide alone, at a lower rank)."""
    hints = [index_key(key) for key in keys]
    if not keys or any(hint is None for hint in hints):
        return Part(exact={field_name or values_field(clause.param.code): one_or_in(keys)},
                    rank=60) if keys else Part(exact=dict(NOTHING), rank=0)
    return keyed(clause, keys, rank, field_name, prefix, [h for h in hints if h is not None])


def stored_key(code: str, key: str) -> str:
    """A key as the shared index holds it (cut at STRING_KEY_LENGTH, index_document.py)."""
    return shared_key(code, key[:STRING_KEY_LENGTH])


def all_whole(keys: list[str], prefix: str = "") -> bool:
    """True when no key was cut in the shared index (a cut key only narrows: the exact
    condition on the parameter's values must decide)."""
    return all(len(prefix + key) <= STRING_KEY_LENGTH for key in keys)


def missing(clause: Clause, field_name: str | None = None) -> Part:
    """:missing=true|false (search.html#missing); true,false together matches everything."""
    wanted = set(clause.values)
    if wanted == {"true", "false"} or not wanted:
        return Part(rank=100)
    return Part(exact={field_name or values_field(clause.param.code):
                       {"$exists": "false" in wanted}}, rank=95)


def elem_or(conditions: list[dict[str, Any]], anchor: str) -> dict[str, Any]:
    """An $elemMatch body that holds when any of the conditions holds.

    A body made only of operators ({$or: ...}) is read as a scalar test by SecantusDB, so an
    always-true test on a field every entry has (`anchor`) keeps it a document criteria.
    """
    body = conditions[0] if len(conditions) == 1 else {"$or": conditions}
    if all(key.startswith("$") for key in body):
        body = {anchor: {"$exists": True}, **body}
    return body


def parts_of(value: str, separator: str, name: str, count: int | None = None) -> list[str]:
    """Split a value on an unescaped separator and unescape the parts (400 on a bad count)."""
    pieces = [unescape(piece) for piece in split_escaped(value, separator)]
    if count is not None and len(pieces) != count:
        raise InvalidRequest.at(f"Malformed value '{value[:80]}' for {name}", name, "value")
    return pieces


def prefix_of(value: str, name: str, allowed: tuple[str, ...]) -> tuple[str, str]:
    """Split an ordered-type value into its comparison prefix (eq default) and the rest."""
    head = value[:2]
    if len(value) > 2 and head.isalpha() and head.islower():
        if head not in allowed:
            raise InvalidRequest.at(f"Unknown prefix '{head}' in {name}={value[:60]}", name,
                                    "value")
        return head, value[2:]
    return "eq", value
