"""Quantity parameters (search.html#quantity): [prefix]number[|system|code], e.g. 5.4|ucum|mg.

The number compares like a number parameter; `system|code` must match the unit's system and
code, `|code` matches the code or the unit text, and no unit part matches any unit.
"""

from __future__ import annotations

from typing import Any

from fhir_server.search.normalize import SEP
from fhir_server.search.params import Clause
from fhir_server.storage.query.base import (
    Part,
    elem_or,
    missing,
    parts_of,
    prefix_of,
    values_field,
)
from fhir_server.storage.query.number import PREFIXES, number_condition, parse_number


def quantity_condition(value: str, name: str) -> dict[str, Any]:
    """The condition one stored {lo, hi, u} entry must meet."""
    pieces = parts_of(value, "|", name)
    if len(pieces) not in (1, 3):
        pieces = parts_of(value, "|", name, 3)
    prefix, text = prefix_of(pieces[0], name, PREFIXES)
    condition = number_condition(prefix, parse_number(text, name))
    if len(pieces) == 3 and pieces[2]:
        system, code = pieces[1], pieces[2]
        condition = {**condition, "u": f"{system}{SEP}{code}" if system else f"{SEP}{code}"}
    return condition


def compile_quantity(clause: Clause) -> Part:
    """Compile a quantity clause."""
    if clause.modifier == "missing":
        return missing(clause)
    conditions = [quantity_condition(value, clause.name) for value in clause.values]
    body = elem_or(conditions, "lo")
    return Part(exact={values_field(clause.param.code): {"$elemMatch": body}}, rank=60)
