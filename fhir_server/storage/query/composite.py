"""Composite parameters (search.html#composite): `a$b` matches when one element satisfies both.

Each stored entry keeps its components side by side ({c0: [...], c1: [...]}), so one
$elemMatch checks them together; all-token composites also get combined keys for the index
(each token component by its code alone, normalize.index_key).
"""

from __future__ import annotations

from typing import Any

from fhir_server.search.criteria import Context
from fhir_server.search.extract import COMPOSITE_SEP
from fhir_server.search.normalize import TOP, index_key, norm_string
from fhir_server.search.params import Clause, split_escaped, unescape
from fhir_server.storage.query.base import (
    SHARED,
    Part,
    all_whole,
    elem_or,
    missing,
    one_or_in,
    parts_of,
    prefix_of,
    stored_key,
    values_field,
)
from fhir_server.storage.query.date import PREFIXES as DATE_PREFIXES
from fhir_server.storage.query.date import element_condition, search_range
from fhir_server.storage.query.number import PREFIXES, number_condition, parse_number
from fhir_server.storage.query.quantity import quantity_condition
from fhir_server.storage.query.token import query_key

KEYED = ("token", "reference", "uri")


def component_condition(kind: str, value: str, name: str, ctx: Context) -> Any:
    """The test on one component list for one component value."""
    if kind == "token":
        return query_key(value, name)
    if kind in ("reference", "uri"):
        return unescape(value)
    if kind == "quantity":
        return {"$elemMatch": elem_or([quantity_condition(value, name)], "lo")}
    if kind == "number":
        prefix, text = prefix_of(value, name, PREFIXES)
        return {"$elemMatch": elem_or([number_condition(prefix, parse_number(text, name))], "lo")}
    if kind == "date":
        prefix, text = prefix_of(value, name, DATE_PREFIXES)
        low, high = search_range(text, name)
        return {"$elemMatch": elem_or([element_condition(prefix, low, high, ctx.now)], "lo")}
    prefix_text = norm_string(unescape(value))
    return {"$elemMatch": {"v": {"$gte": prefix_text, "$lt": prefix_text + TOP}}}


def compile_composite(clause: Clause, ctx: Context) -> Part:
    """Compile a composite clause."""
    if clause.modifier == "missing":
        return missing(clause)
    components = clause.param.components
    conditions, keys = [], []
    for value in clause.values:
        pieces = split_escaped(value, "$")
        if len(pieces) != len(components):
            parts_of(value, "$", clause.name, len(components))  # raises the 400
        condition = {f"c{i}": component_condition(c.kind, piece, clause.name, ctx)
                     for i, (c, piece) in enumerate(zip(components, pieces, strict=True))}
        conditions.append(condition)
        if all(c.kind in KEYED for c in components):
            keys.append([str(condition[f"c{i}"]) for i in range(len(components))])
    exact = {values_field(clause.param.code): {"$elemMatch": elem_or(conditions, "c0")}}
    hints = [[index_key(part) for part in key] for key in keys]
    if keys and len(keys) == len(conditions) and all(None not in hint for hint in hints):
        joined = [COMPOSITE_SEP.join(str(part) for part in hint) for hint in hints]
        shared = [stored_key(clause.param.code, key) for key in joined]
        whole = all_whole(joined) and hints == keys  # the index key is the value itself
        return Part(exact=exact, hint=(SHARED, one_or_in(shared)), hint_exact=whole, rank=15)
    return Part(exact=exact, rank=60)
