"""Patient compartment membership (official R4 Patient CompartmentDefinition), for the guard.

A resource is in a patient's compartment when one of its compartment parameters (e.g.
Immunization.patient, AdverseEvent.subject) references that patient; a Patient is in its own.
Stored resources are selected by an `InCompartments` criteria term, which the store matches on
the same search index keys as search.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from typing import Any

from fhir_server.search.criteria import InCompartments
from fhir_server.search.extract import SearchIndexer, reference_key
from fhir_server.search.paths import Node, evaluate_terms
from fhir_server.search.registry import SearchParam, indexed_params, lookup
from fhir_server.spec import patient_compartment


@cache
def compartment_params(type_name: str) -> tuple[str, ...]:
    """The search parameters linking resources of this type to a patient."""
    return tuple(patient_compartment().get(type_name, ()))


@cache
def patient_links(type_name: str) -> tuple[str, ...]:
    """The indexed parameters by which a resource of this type names a patient: its Patient
    compartment parameters, else its reference parameters that may point to a Patient."""
    if compartment_params(type_name):
        return compartment_params(type_name)
    return tuple(param.code for param in indexed_params(type_name)
                 if param.kind == "reference" and "Patient" in param.targets)


@cache
def _linking_params(type_name: str) -> tuple[SearchParam, ...]:
    """The registry entries of the compartment parameters of a type (those it indexes)."""
    found = (lookup(type_name, code) for code in compartment_params(type_name))
    return tuple(param for param in found if param is not None)


@cache
def _indexer(base_url: str) -> SearchIndexer:
    return SearchIndexer(base_url)


def _references(nodes: list[Node], base_url: str) -> Iterator[str | None]:
    """The literal references of evaluated Reference nodes, keyed as the index keys them."""
    for _type_name, data in nodes:
        if isinstance(data, dict):
            reference = data.get("reference")
            if isinstance(reference, str):
                yield reference_key(reference, base_url)


def in_compartment(type_name: str, resource: Mapping[str, Any], patient_ids: Iterable[str],
                   base_url: str) -> bool:
    """True when the resource belongs to the compartment of one of these patients (read from
    its content, the same FHIRPath and reference keys as the search index)."""
    wanted = {f"Patient/{pid}" for pid in patient_ids}
    if type_name == "Patient":
        return f"Patient/{resource.get('id')}" in wanted
    base = base_url.rstrip("/")
    for param in _linking_params(type_name):
        if param.kind == "reference":  # the common case, without building index values
            if any(key in wanted for key in _references(evaluate_terms(param.terms, resource),
                                                        base)):
                return True
        elif wanted & set(_indexer(base).values(param, resource).values):
            return True
    return False


def compartment_term(type_name: str, patient_ids: Iterable[str]) -> InCompartments:
    """The criteria term selecting the stored resources of these patients' compartments."""
    return InCompartments(tuple(sorted(set(patient_ids))), tuple(compartment_params(type_name)))
