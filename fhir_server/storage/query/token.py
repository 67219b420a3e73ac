"""Token parameters (search.html#token): code, system|code, |code, system|, :not, :text, :of-type.

Tokens match exactly (case-sensitive) on the values extracted at write time (code, system|code,
system|); the shared index holds the code alone, so `[system]|[code]` starts from the code's
index entries and the exact values decide. Codes of a small required value set (status,
gender...) are not indexed: they only filter. `_id` reads the document id directly.
"""

from __future__ import annotations

from fhir_server.search.normalize import ANY_CODE, SEP, TOP, norm_string, of_type_key
from fhir_server.search.params import Clause
from fhir_server.search.values import is_low_cardinality
from fhir_server.storage.query.base import (
    Part,
    elem_or,
    missing,
    one_or_in,
    parts_of,
    token_keyed,
    values_field,
)

FILTER_RANK = 80  # a low-cardinality code: applied after the parts that start from an index

SELECTIVE = ("identifier", "_id", "telecom", "phone", "email", "code", "url")


def query_key(value: str, name: str) -> str:
    """The stored key a token search value looks for (escapes honoured)."""
    pieces = parts_of(value, "|", name)
    if len(pieces) == 1:
        return pieces[0]
    system, code = pieces[0], "|".join(pieces[1:])
    return f"{system}{SEP}{code}" if code else f"{system}{SEP}{ANY_CODE}"


def _rank(clause: Clause, keys: list[str]) -> int:
    if clause.param.code in SELECTIVE or any(SEP in key for key in keys):
        return 10
    return 50


def text_part(clause: Clause, field_name: str) -> Part:
    """A case- and accent-insensitive prefix match on display texts (token :text)."""
    prefixes = [norm_string(value) for value in clause.values]
    conditions = [{"v": {"$gte": p, "$lt": p + TOP}} for p in prefixes]
    return Part(exact={field_name: {"$elemMatch": elem_or(conditions, "v")}}, rank=70)


def compile_token(clause: Clause) -> Part:
    """Compile a token clause."""
    code, name = clause.param.code, clause.name
    if clause.modifier == "missing":
        return missing(clause, "_id" if code == "_id" else None)
    if clause.modifier == "text":
        return text_part(clause, f"idx.t.{code}")
    if clause.modifier == "of-type":
        keys = [of_type_key(*parts_of(value, "|", name, 3)) for value in clause.values]
        return token_keyed(clause, keys, 10)
    keys = [query_key(value, name) for value in clause.values]
    if code == "_id":
        ids = list(clause.values)
        if clause.modifier == "not":
            return Part(exact={"_id": {"$nin": ids}}, rank=90)
        return Part(exact={"_id": one_or_in(ids)}, hint=("_id", one_or_in(ids)),
                    hint_exact=True, rank=0)
    if clause.modifier == "not":
        return Part(exact={values_field(code): {"$nin": keys}}, rank=90)
    if is_low_cardinality(clause.param.code_systems):
        return Part(exact={values_field(code): one_or_in(keys)}, rank=FILTER_RANK)
    return token_keyed(clause, keys, _rank(clause, keys))
