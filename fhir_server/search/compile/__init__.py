"""Clause -> Part, one compiler per parameter type (chains are resolved before this)."""

from __future__ import annotations

from fhir_server.errors import InvalidRequest
from fhir_server.search.compile.base import Context, Part
from fhir_server.search.compile.composite import compile_composite
from fhir_server.search.compile.date import compile_date
from fhir_server.search.compile.number import compile_number
from fhir_server.search.compile.quantity import compile_quantity
from fhir_server.search.compile.reference import compile_reference
from fhir_server.search.compile.string import compile_string
from fhir_server.search.compile.token import compile_token
from fhir_server.search.compile.uri import compile_uri
from fhir_server.search.params import Clause


def compile_clause(clause: Clause, ctx: Context) -> Part:
    """Compile one (non-chained) clause to a Part."""
    kind = clause.param.kind
    if kind == "token":
        return compile_token(clause)
    if kind == "string":
        return compile_string(clause)
    if kind == "date":
        return compile_date(clause, ctx)
    if kind == "reference":
        return compile_reference(clause, ctx)
    if kind == "uri":
        return compile_uri(clause)
    if kind == "number":
        return compile_number(clause)
    if kind == "quantity":
        return compile_quantity(clause)
    if kind == "composite":
        return compile_composite(clause, ctx)
    raise InvalidRequest.at(f"Parameter {clause.name} cannot be searched", clause.name,
                            "not-supported")


__all__ = ["Context", "Part", "compile_clause"]
