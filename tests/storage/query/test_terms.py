"""Criteria terms compiled on the stored layout, and what they select on the real server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fhir_server.search.criteria import (
    EVERYTHING,
    NOTHING,
    AnyOf,
    Criteria,
    ElementIs,
    IdAfter,
    IdIn,
    InCompartments,
    NamesPatient,
    Updated,
    of,
)
from fhir_server.storage.query import compile_criteria
from fhir_server.storage.query.terms import compile_term
from tests.search.conftest import SearchBed


def test_compiled_terms() -> None:
    assert compile_criteria("Patient", EVERYTHING) == {}
    assert compile_criteria("Patient", NOTHING) == {"_id": {"$in": []}}
    assert compile_criteria("Patient", of(IdIn(("a", "b")))) == {"_id": {"$in": ["a", "b"]}}
    assert compile_criteria("Patient", of(InCompartments(("p2", "p1"), ()))) == {
        "_id": {"$in": ["p1", "p2"]}}
    assert compile_criteria("Immunization", of(InCompartments(("p1",), ("patient",)))) == {
        "idx.k": "patient\x1cPatient/p1"}
    assert compile_criteria("Immunization", of(InCompartments(("p1",), ()))) == {
        "_id": {"$in": []}}
    assert compile_criteria("Patient", of(ElementIs("meta.source", "x"))) == {
        "res.meta.source": "x"}
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    assert compile_criteria("Patient", of(Updated(gt=moment, lte=moment))) == {
        "ts": {"$gt": moment, "$lte": moment}}
    assert compile_term("Patient", IdAfter("x")).exact == {"_id": {"$gt": "x"}}


def test_terms_select_on_the_server(bed: SearchBed) -> None:
    bed.add({"resourceType": "Patient", "id": "crit-p1"})
    bed.add({"resourceType": "Immunization", "id": "crit-i1", "status": "completed",
             "vaccineCode": {"text": "x"}, "patient": {"reference": "Patient/crit-p1"},
             "occurrenceDateTime": "2021-01-01"})
    bed.add({"resourceType": "Immunization", "id": "crit-i2", "status": "completed",
             "vaccineCode": {"text": "x"}, "patient": {"reference": "Group/crit-g"},
             "occurrenceDateTime": "2021-01-01"})
    store = bed.store
    mine = of(InCompartments(("crit-p1",), ("patient",)))
    assert {v.id for v in store.find("Immunization", mine)} == {"crit-i1"}
    ours = of(IdIn(("crit-i1", "crit-i2")))
    names = ours.and_(NamesPatient(("patient",)))
    assert {v.id for v in store.find("Immunization", names)} == {"crit-i1"}
    no_one = ours.and_(NamesPatient(("patient",), negate=True))
    assert {v.id for v in store.find("Immunization", no_one)} == {"crit-i2"}
    either = of(AnyOf((Criteria((IdIn(("crit-i2",)),)), mine)))
    assert store.ids("Immunization", either.and_(IdIn(("crit-i1", "crit-i2")))) in (
        ["crit-i1", "crit-i2"], ["crit-i2", "crit-i1"])
    future = datetime.now(UTC) + timedelta(days=1)
    assert store.count("Immunization", ours.and_(Updated(gt=future))) == 0
    assert store.count("Immunization", ours.and_(Updated(lte=future))) == 2
    assert store.references("Immunization", "patient", ours) in (
        ["Patient/crit-p1", "Group/crit-g"], ["Group/crit-g", "Patient/crit-p1"])
