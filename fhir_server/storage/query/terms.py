"""Criteria -> one MongoDB filter: each term compiled to a Part on the stored layout (`_id`,
`ts`, `res.*` content, the `idx` search document), then assembled by plan.build_filter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fhir_server.search.criteria import (
    After,
    AnyOf,
    CompartmentSearch,
    Criteria,
    ElementIs,
    IdAfter,
    IdIn,
    InCompartments,
    Match,
    NamesPatient,
    RefersTo,
    Term,
    Updated,
)
from fhir_server.search.normalize import PARAM_SEP, shared_key
from fhir_server.storage.locality import PATIENT_FIELD, patient_test
from fhir_server.storage.query.base import NOTHING, SHARED, Part, keyed, one_or_in
from fhir_server.storage.query.clauses import compile_clause
from fhir_server.storage.query.keyset import keyset_part
from fhir_server.storage.query.plan import build_filter

RESTRICTION_RANK = 90  # a caller's compartment restriction: an index start when nothing else is


def _ids(term: IdIn) -> Part:
    if not term.ids:
        return Part(exact=dict(NOTHING), rank=0)
    test = one_or_in(list(term.ids))
    return Part(exact={"_id": test}, hint=("_id", test), hint_exact=True, rank=0)


def _compartments(type_name: str, term: InCompartments) -> Part:
    ids = sorted(set(term.patient_ids))
    if type_name == "Patient":
        return _ids(IdIn(tuple(ids)))
    keys = [f"{code}{PARAM_SEP}Patient/{pid}" for code in term.codes for pid in ids]
    if not keys:
        return Part(exact=dict(NOTHING), rank=0)
    test = one_or_in(keys)
    return Part(exact={SHARED: test}, shard=_on_shard(
        type_name, term.codes, [f"Patient/{pid}" for pid in ids]), hint=(SHARED, test),
        hint_exact=True, rank=RESTRICTION_RANK)


def _on_shard(type_name: str, codes: tuple[str, ...] | list[str],
              references: list[str]) -> dict[str, Any]:
    """The `pat` test these linking parameters imply (storage/locality.py)."""
    found = patient_test(type_name, codes[0], references) if len(codes) == 1 else None
    return {} if found is None else {PATIENT_FIELD: found}


def _compartment_search(type_name: str, term: CompartmentSearch) -> Part:
    reference = f"{term.compartment}/{term.patient_id}"
    links = term.links
    if type_name == term.compartment:
        return Part(raw=[{"$or": [{"_id": term.patient_id},
                                  *({f"idx.p.{code}": reference} for code in links)]}], rank=5)
    if not links:
        return Part(exact=dict(NOTHING), rank=0)
    keys = [shared_key(code, reference) for code in links]
    hint = (SHARED, one_or_in(keys))
    if len(links) == 1:
        return Part(exact={f"idx.p.{links[0]}": reference},
                    shard=_on_shard(type_name, links, [reference]), hint=hint, hint_exact=True,
                    rank=5)
    return Part(raw=[{"$or": [{f"idx.p.{code}": reference} for code in links]}], hint=hint,
                hint_exact=True, rank=5)


def _names_patient(term: NamesPatient) -> Part:
    """A key range on the index keys "param\\x1cPatient/..." per parameter (no regex)."""
    names_any = [{SHARED: {"$elemMatch": {"$gte": f"{code}{PARAM_SEP}Patient/",
                                          "$lt": f"{code}{PARAM_SEP}Patient0"}}}
                 for code in term.codes]
    if term.negate:
        return Part(raw=[{"$nor": names_any}], rank=95) if names_any else Part(rank=100)
    if not names_any:
        return Part(exact=dict(NOTHING), rank=0)
    return Part(raw=[{"$or": names_any}], rank=95)


def _updated(term: Updated) -> Part:
    window: dict[str, datetime] = {}
    if term.gt is not None:
        window["$gt"] = term.gt
    if term.gte is not None:
        window["$gte"] = term.gte
    if term.lte is not None:
        window["$lte"] = term.lte
    return Part(exact={"ts": window}, rank=60) if window else Part(rank=100)


def compile_term(type_name: str, term: Term) -> Part:
    """One term as a Part of the filter."""
    match term:
        case Match(clause, context):
            return compile_clause(clause, context)
        case RefersTo(clause, keys, rank):
            return keyed(clause, list(keys), rank)
        case IdIn():
            return _ids(term)
        case IdAfter(after):
            return Part(exact={"_id": {"$gt": after}}, rank=98)
        case InCompartments():
            return _compartments(type_name, term)
        case CompartmentSearch():
            return _compartment_search(type_name, term)
        case NamesPatient():
            return _names_patient(term)
        case Updated():
            return _updated(term)
        case ElementIs(path, value):
            return Part(exact={f"res.{path}": value}, rank=70)
        case AnyOf(options):
            if not options:
                return Part(exact=dict(NOTHING), rank=0)
            return Part(raw=[{"$or": [compile_criteria(type_name, c) for c in options]}],
                        rank=80)
        case After():
            return keyset_part(term)
    raise TypeError(f"not a criteria term: {term!r}")


def compile_criteria(type_name: str, criteria: Criteria, targeted: bool = False
                     ) -> dict[str, Any]:
    """The MongoDB filter for criteria over the current resources of one type (`targeted`:
    with the shard-key tests the criteria imply, for a sharded cluster)."""
    return build_filter([compile_term(type_name, term) for term in criteria.terms],
                        targeted=targeted)
