"""Parsing parameters: escapes, modifiers, chains and reverse chains (search.html#ptypes)."""

from __future__ import annotations

import pytest

from fhir_server.errors import InvalidRequest
from fhir_server.search.params import Unsupported, parse_clause, split_escaped, unescape


def test_escapes() -> None:
    # search.html#escaping
    assert split_escaped(r"a,b\,c", ",") == ["a", r"b\,c"]
    assert unescape(r"b\,c\\d\$e\|f") == r"b,c\d$e|f"


def test_modifiers() -> None:
    assert parse_clause("Patient", "name:exact", "X").modifier == "exact"
    assert parse_clause("Communication", "subject:Patient", "1").modifier == "Patient"
    with pytest.raises(InvalidRequest):
        parse_clause("Patient", "name:nonsense", "x")
    with pytest.raises(InvalidRequest):
        parse_clause("Patient", "gender:exact", "x")
    with pytest.raises(InvalidRequest):
        parse_clause("Patient", "gender:missing", "maybe")


def test_unknown_and_unsupported_parameters() -> None:
    with pytest.raises(Unsupported):
        parse_clause("Patient", "nope", "x")
    with pytest.raises(Unsupported):
        parse_clause("Patient", "_text", "x")
    with pytest.raises(Unsupported):
        parse_clause("Location", "near", "1|2|3")


def test_chains() -> None:
    clause = parse_clause("Immunization", "patient.name", "x")
    assert [(t, c.param.code) for t, c in clause.chain] == [("Patient", "name")]
    clause = parse_clause("Communication", "subject:Patient.gender", "x")
    assert [t for t, _c in clause.chain] == ["Patient"]
    with pytest.raises(InvalidRequest):
        parse_clause("Immunization", "patient.organization.partof.partof.partof.name", "x")


def test_reverse_chain() -> None:
    clause = parse_clause("Patient", "_has:Immunization:patient:vaccine-code", "x")
    assert clause.has is not None and clause.has[0] == "Immunization"
    with pytest.raises(InvalidRequest):
        parse_clause("Patient", "_has:Immunization:patient", "x")
    with pytest.raises(Unsupported):
        parse_clause("Patient", "_has:Nope:patient:x", "x")
