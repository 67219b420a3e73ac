"""Number parameters (search.html#number): implied-precision ranges for eq/ne/ap, exact otherwise.

`100` means [99.5, 100.5); `gt100` means greater than exactly 100. Stored values are {lo, hi}
(a point, or a Range's bounds).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from fhir_server.errors import InvalidRequest
from fhir_server.search.params import Clause
from fhir_server.storage.query.base import Part, elem_or, missing, prefix_of, values_field

PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?")


def parse_number(text: str, name: str) -> Decimal:
    """A search number (400 when it is not one)."""
    if not _NUMBER.fullmatch(text):
        raise InvalidRequest.at(f"Invalid number '{text[:60]}' in {name}", name, "value")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise InvalidRequest.at(f"Invalid number '{text[:60]}' in {name}", name,
                                "value") from None


def implicit_range(number: Decimal) -> tuple[float, float]:
    """The range a number's precision implies: 100 -> [99.5, 100.5), 1.0 -> [0.95, 1.05)."""
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    half = Decimal(5) * Decimal(10) ** (exponent - 1)
    return float(number - half), float(number + half)


def number_condition(prefix: str, number: Decimal) -> dict[str, Any]:
    """The condition one stored {lo, hi} entry must meet."""
    value = float(number)
    if prefix in ("eq", "ne"):
        low, high = implicit_range(number)
        if prefix == "eq":
            return {"lo": {"$gte": low}, "hi": {"$lt": high}}
        return {"$or": [{"lo": {"$lt": low}}, {"hi": {"$gte": high}}]}
    if prefix == "ap":
        margin = abs(value) / 10 or 0.1
        return {"lo": {"$lte": value + margin}, "hi": {"$gte": value - margin}}
    side, operator = {"gt": ("hi", "$gt"), "lt": ("lo", "$lt"), "ge": ("hi", "$gte"),
                      "le": ("lo", "$lte"), "sa": ("lo", "$gt"), "eb": ("hi", "$lt")}[prefix]
    return {side: {operator: value}}


def compile_number(clause: Clause) -> Part:
    """Compile a number clause."""
    if clause.modifier == "missing":
        return missing(clause)
    conditions = []
    for value in clause.values:
        prefix, text = prefix_of(value, clause.name, PREFIXES)
        conditions.append(number_condition(prefix, parse_number(text, clause.name)))
    body = elem_or(conditions, "lo")
    return Part(exact={values_field(clause.param.code): {"$elemMatch": body}}, rank=60)
