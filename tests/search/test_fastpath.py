"""The fast FHIRPath evaluator of search terms (search/fastpath.py) against fhirpathpy.

FHIR R4 search.html#table: a SearchParameter's values are what its FHIRPath `expression` selects.
Most terms are plain paths (FHIRPath N1 "Path selection" and "Navigation": collections flatten,
choice elements `value[x]` are selected by name), `ofType(T)` / `as(T)` (FHIRPath "Types"),
`where(criteria)` (FHIRPath "Filtering and projection") or FHIR's `extension(url)`
(fhirpath.html#functions). The fast path must give exactly fhirpathpy's nodes (same types, same
data objects, same order) or step aside, on every official R4 example of our types, on the
Synthea bundles and on our own AuditEvents, and the stored index must not change.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from fhirpathpy.engine.nodes import ResourceNode, TypeInfo

from fhir_server.auth.audit import audit_event
from fhir_server.auth.principal import Principal
from fhir_server.resource_types import RESOURCE_TYPES
from fhir_server.search import fastpath
from fhir_server.search.extract import SearchIndexer
from fhir_server.search.paths import (
    R4_MODEL,
    Node,
    Term,
    compile_expression,
    compile_relative,
    evaluate_terms,
    nodes,
)
from fhir_server.search.registry import indexed_params, lookup
from fhir_server.spec.package import iter_examples
from tests.api.test_transaction_synthea import FULL

BASE = "http://fhir.test/fhir"
RAISED = "raised"


def _examples() -> list[dict[str, Any]]:
    return [resource for _name, resource in iter_examples(RESOURCE_TYPES)]


def _synthea() -> list[dict[str, Any]]:
    if not FULL.is_dir():
        pytest.skip(f"no Synthea data at {FULL}")
    return [entry["resource"] for path in sorted(FULL.glob("*.json"))
            for entry in json.loads(path.read_bytes())["entry"]
            if entry["resource"]["resourceType"] in RESOURCE_TYPES]


def _audit_events() -> list[dict[str, Any]]:
    principals = [Principal("citizen", "acc-1", patient="p1", address="10.0.0.1"),
                  Principal("staff", "acc-2", roles=frozenset({"admin"}), address="::1"),
                  Principal("system", "site-1"), Principal("citizen", "acc-3", patient="p3")]
    calls: list[tuple[str, str, list[str], str | None, int]] = [
        ("GET", "read", ["Patient/p1"], None, 200),
        ("GET", "search-type", ["Patient/a", "Observation/b", "Patient/a"], "name=x", 200),
        ("POST", "operation", ["Patient/p1"], None, 422),
        ("DELETE", "delete", [], None, 500), ("GET", "search-system", [], "_id=1", 404)]
    return [audit_event(principal, *call, "2026-11-25T10:00:00.000+07:00")
            for principal in principals for call in calls]


CORPORA = {"examples": _examples, "synthea": _synthea, "audit": _audit_events}


def _outcome(evaluate: Any, data: Any) -> list[Node] | str:
    try:
        return list(evaluate(data))
    except Exception:  # noqa: BLE001 - a raising term is an outcome too (its values are dropped)
        return RAISED


def _same(fast: list[Node], slow: list[Node] | str) -> bool:
    """Equal nodes, down to the very data objects (so True is never taken for 1)."""
    return slow != RAISED and len(fast) == len(slow) and all(
        a[0] == b[0] and a[1] is b[1] for a, b in zip(fast, slow, strict=True))


def _check(term: Term, data: Any, root: Any, stats: Counter[str]) -> None:
    """One term on one resource: the fast nodes are fhirpathpy's, or the fast path stepped aside."""
    assert term.fast is not None
    try:
        fast = term.fast(data)
    except Exception:  # noqa: BLE001 - stepping aside is allowed: fhirpathpy then decides
        stats["stepped aside"] += 1
        return
    slow = _outcome(lambda value: nodes(term.fhirpath(value)), root)
    assert _same(fast, slow), (term, data.get("id") if isinstance(data, dict) else data,
                               fast, slow)
    stats["non-empty" if fast else "empty"] += 1


def _coverage() -> tuple[int, int]:
    terms = [t for type_name in RESOURCE_TYPES for p in indexed_params(type_name)
             for t in p.terms]
    return sum(1 for t in terms if t.fast is not None), len(terms)


def test_most_terms_take_the_fast_path() -> None:
    fast, total = _coverage()
    print(f"fast path: {fast} of {total} indexed terms")
    assert fast >= 0.95 * total
    for type_name, code in [("Patient", "phone"), ("Patient", "mothersMaidenName"),
                            ("Patient", "death-date"), ("QuestionnaireResponse", "item-subject"),
                            ("ValueSet", "code"), ("AuditEvent", "patient")]:
        param = lookup(type_name, code)
        assert param is not None and all(t.fast for t in param.terms), (type_name, code)
    assert compile_relative("value.as(CodeableConcept)").fast is not None
    assert compile_relative("value.as(Quantity) | value.as(Range)").fast is None  # union: distinct
    # shapes it leaves to fhirpathpy: operators, indexers, grammar words, unknown functions
    for text in ["Patient.deceased.exists() and Patient.deceased != false", "Patient.name[0]",
                 "Patient.name.first()", "Patient.day.x", "Patient.name.where(use != 'x')",
                 "Patient.value.ofType(FHIR.Quantity)", "Patient.where(x='a\\'b')"]:
        assert fastpath.compile_term(text) is None, text


@pytest.mark.parametrize("model_known", [False, True])
@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_fast_nodes_are_fhirpathpy_nodes(corpus: str, model_known: bool,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Every indexed term (and composite component) on every resource, without presence gates.

    fhirpathpy's `ofType` follows the model's subtypes only once some `is`/`as` has run in the
    process (a global): the fast path must agree in both states, or step aside.
    """
    monkeypatch.setattr(TypeInfo, "model", R4_MODEL if model_known else None)
    stats: Counter[str] = Counter()
    for resource in CORPORA[corpus]():
        for param in indexed_params(resource["resourceType"]):
            for term in param.terms:
                if term.fast is None:
                    stats["fhirpathpy only"] += 1
                    continue
                _check(term, resource, resource, stats)
            for component in param.components:
                relative = compile_relative(component.expression)
                for node in evaluate_terms(param.terms, resource):
                    if relative.fast is not None:
                        _check(Term(relative.fhirpath, None, None, relative.fast), node,
                               ResourceNode.create_node(node[1], node[0]), stats)
    print(corpus, dict(stats))
    assert stats["non-empty"] > 50 and stats["stepped aside"] < stats["non-empty"] / 10


@pytest.mark.parametrize("model_known", [False, True])
@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_index_documents_are_unchanged(corpus: str, model_known: bool,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole `idx` document, with the fast path and with fhirpathpy alone.

    Both runs start from the same fhirpathpy global state (see above): `as()` in a composite
    sets it during a run, at the same resource either way.
    """
    resources = CORPORA[corpus]()
    indexer = SearchIndexer(BASE)
    monkeypatch.setattr(TypeInfo, "model", R4_MODEL if model_known else None)
    fast = [indexer(resource) for resource in resources]
    monkeypatch.setattr(TypeInfo, "model", R4_MODEL if model_known else None)
    monkeypatch.setattr(fastpath, "ENABLED", False)
    slow = [indexer(resource) for resource in resources]
    assert len(resources) >= 20
    for resource, with_fast, without in zip(resources, fast, slow, strict=True):
        assert with_fast == without, (resource["resourceType"], resource.get("id"))


@pytest.mark.parametrize(("expression", "type_name", "resource"), [
    # primitives with extensions: the `_x` sibling is a node of its own (dropped when bare)
    ("Patient.birthDate", "Patient", {"birthDate": "1990", "_birthDate": {"id": "b"}}),
    ("Patient.birthDate", "Patient", {"_birthDate": {"extension": [{"url": "u"}]}}),
    ("Patient.name.given", "Patient",
     {"name": [{"given": ["A", None, "C"], "_given": [None, {"id": "g"}, None]}]}),
    # choice elements: the first variant present, typed by its suffix
    ("Patient.deceased.ofType(dateTime)", "Patient", {"deceasedDateTime": "2020"}),
    ("Patient.deceased.ofType(boolean)", "Patient", {"deceasedBoolean": False}),
    ("Group.characteristic.value.ofType(boolean)", "Group",
     {"characteristic": [{"valueBoolean": True}, {"valueQuantity": {"value": 1.5}}]}),
    ("Group.quantity", "Group", {"quantity": 0}),
    # where(): exactly one matching string value; `_system` makes two nodes, so no match
    ("Patient.telecom.where(system='phone')", "Patient",
     {"telecom": [{"system": "phone", "value": "1"}, {"system": "email", "value": "e"},
                  {"system": "phone", "_system": {"id": "s"}, "value": "2"}, {"value": "3"}]}),
    ("Patient.telecom.where(system='phone')", "Patient", {"telecom": [{"system": 7}]}),
    # extension(url), and as a where() criterion with exists()
    ("Patient.extension('http://e')", "Patient",
     {"extension": [{"url": "http://f"}, {"url": "http://e", "valueString": "x"},
                    {"url": "http://e", "valueString": "y"}]}),
    ("Patient.extension('http://e')", "Patient", {"extension": [{"valueString": "no url"}]}),
    ("QuestionnaireResponse.item.where(extension('http://s').exists()).answer.value"
     ".ofType(Reference)", "QuestionnaireResponse",
     {"item": [{"linkId": "1", "extension": [{"url": "http://s", "valueBoolean": True}],
                "answer": [{"valueReference": {"reference": "Patient/1"}},
                           {"valueString": "x"}]},
               {"linkId": "2", "answer": [{"valueReference": {"reference": "Patient/2"}}]}]}),
    # contained resources are typed by their resourceType; subtypes are left to fhirpathpy
    ("Patient.contained", "Patient", {"contained": [{"resourceType": "Organization"}]}),
    ("Patient.contained.ofType(Organization)", "Patient",
     {"contained": [{"resourceType": "Organization"}, {"resourceType": "Patient"}]}),
    ("Patient.gender.ofType(string)", "Patient", {"gender": "male"}),  # code is a string
    ("Patient.name.as(HumanName)", "Patient", {"name": [{"text": "a"}, {"text": "b"}]}),
    ("Patient.name.as(HumanName)", "Patient", {"name": [{"text": "a"}]}),
    ("Group.characteristic.value.ofType(CodeableConcept)", "Group",
     {"characteristic": [{"_valueString": {"id": "v"}, "valueCodeableConcept": {"text": "c"}},
                         {"valueCodeableConcept": {"text": "d"}}]}),
    ("Patient.meta.profile", "Patient",
     {"meta": {"profile": ["http://p"], "_profile": [{"extension": [{"url": "u"}]}]}}),
    ("AdverseEvent.suspectEntity.causality.assessment", "AdverseEvent",
     {"suspectEntity": [{"causality": [{"assessment": {"text": "a"}}, {}]}]}),
])
def test_edge_shapes(expression: str, type_name: str, resource: dict[str, Any]) -> None:
    """Hand-made data for what the corpora may lack; all of it checked against fhirpathpy."""
    stats: Counter[str] = Counter()
    data = {"resourceType": type_name, **resource}
    for term in compile_expression(expression, type_name):
        _check(term, data, data, stats)
    assert stats["non-empty"] + stats["empty"] + stats["stepped aside"] == 1
