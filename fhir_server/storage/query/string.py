"""String parameters (search.html#string): accent- and case-insensitive prefix by default,
:exact (as written) and :contains (anywhere; a scan, never a regex)."""

from __future__ import annotations

from typing import Any

from fhir_server.search.normalize import PARAM_SEP, STRING_KEY_LENGTH, TOP, norm_string
from fhir_server.search.params import Clause, unescape
from fhir_server.storage.query.base import SHARED, Part, elem_or, missing, one_or_in, values_field


def _hint_range(code: str, prefixes: list[str]) -> dict[str, Any]:
    cut = [p[:STRING_KEY_LENGTH] for p in prefixes]
    base = code + PARAM_SEP
    return {"$gte": base + min(cut), "$lt": base + max(cut) + TOP}


def contains_expr(field_name: str, needles: list[str], subfield: str = "") -> dict[str, Any]:
    """$expr: some value of the array at field_name contains one of the needles ($indexOfCP).

    The array is mapped element by element (`$$this.v`), which MongoDB and SecantusDB agree on;
    needles are $literal so a value such as "$field" stays data, not a field path.
    """
    item = f"$$this.{subfield}" if subfield else "$$this"
    tests = [{"$gte": [{"$indexOfCP": [item, {"$literal": needle}]}, 0]} for needle in needles]
    return {"$expr": {"$anyElementTrue": [{"$map": {
        "input": {"$ifNull": [f"${field_name}", []]},
        "in": tests[0] if len(tests) == 1 else {"$or": tests}}}]}}


def compile_string(clause: Clause) -> Part:
    """Compile a string clause."""
    code = clause.param.code
    if clause.modifier == "missing":
        return missing(clause)
    values = [unescape(value) for value in clause.values]
    if clause.modifier == "exact":
        keys = [code + PARAM_SEP + norm_string(v)[:STRING_KEY_LENGTH] for v in values]
        return Part(exact={f"idx.x.{code}": one_or_in(values)}, hint=(SHARED, one_or_in(keys)),
                    rank=15)
    prefixes = [norm_string(value) for value in values]
    if clause.modifier == "contains":
        return Part(raw=[contains_expr(values_field(code), prefixes, "v")], rank=99)
    if any(p == "" for p in prefixes):  # a value of only spaces/marks: any value matches
        return Part(exact={values_field(code): {"$exists": True}}, rank=95)
    conditions = [{"v": {"$gte": p, "$lt": p + TOP}} for p in prefixes]
    rank = 40 - min(10, min(len(p) for p in prefixes))
    return Part(exact={values_field(code): {"$elemMatch": elem_or(conditions, "v")}},
                hint=(SHARED, _hint_range(code, prefixes)), rank=rank)
