"""Clause -> Part, one compiler per parameter type (chains are resolved before this)."""

from __future__ import annotations

from fhir_server.errors import InvalidRequest
from fhir_server.search.criteria import Context
from fhir_server.search.params import Clause
from fhir_server.storage.query.base import Part
from fhir_server.storage.query.composite import compile_composite
from fhir_server.storage.query.date import compile_date
from fhir_server.storage.query.number import compile_number
from fhir_server.storage.query.quantity import compile_quantity
from fhir_server.storage.query.reference import compile_reference
from fhir_server.storage.query.string import compile_string
from fhir_server.storage.query.token import compile_token
from fhir_server.storage.query.uri import compile_uri


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


__all__ = ["Part", "compile_clause"]
