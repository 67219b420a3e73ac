"""Patient compartment membership (official R4 Patient CompartmentDefinition), for the guard.

A resource is in a patient's compartment when one of its compartment parameters (e.g.
Immunization.patient, AdverseEvent.subject) references that patient; a Patient is in its own.
Membership of stored resources is matched on the search index (`idx.k` keys "param\\x1cType/id"),
so the restriction uses the same indexes as search.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from fhir_server.search.extract import SearchIndexer
from fhir_server.search.normalize import PARAM_SEP
from fhir_server.search.registry import lookup
from fhir_server.spec import patient_compartment


@cache
def compartment_params(type_name: str) -> tuple[str, ...]:
    """The search parameters linking resources of this type to a patient."""
    return tuple(patient_compartment().get(type_name, ()))


def in_compartment(type_name: str, resource: Mapping[str, Any], patient_ids: Iterable[str],
                   base_url: str) -> bool:
    """True when the resource belongs to the compartment of one of these patients."""
    wanted = {f"Patient/{pid}" for pid in patient_ids}
    if type_name == "Patient":
        return f"Patient/{resource.get('id')}" in wanted
    indexer = SearchIndexer(base_url)
    for code in compartment_params(type_name):
        param = lookup(type_name, code)
        if param is not None and wanted & set(indexer.values(param, resource).values):
            return True
    return False


def compartment_filter(type_name: str, patient_ids: Iterable[str]) -> dict[str, Any]:
    """A Mongo filter selecting the stored resources of these patients' compartments."""
    ids = sorted(set(patient_ids))
    if type_name == "Patient":
        return {"_id": {"$in": ids}}
    keys = [f"{code}{PARAM_SEP}Patient/{pid}" for code in compartment_params(type_name)
            for pid in ids]
    return {"idx.k": {"$in": keys}} if keys else {"_id": {"$in": []}}
