"""The search interactions (http.html#search): type, compartment and system search as
searchset Bundles (search.html#return): match and include entries, an outcome entry for
ignored parameters, self/next/previous links and the total."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fhir_server.errors import NotFound
from fhir_server.interactions.bundles import full_url, page_link
from fhir_server.interactions.context import Services
from fhir_server.model.parse import check_id, check_type
from fhir_server.outcome import operation_outcome
from fhir_server.search.service import SearchOutcome
from fhir_server.search.shaping import shape


def _entry(base: str, version: Any, mode: str, outcome: SearchOutcome) -> dict[str, Any]:
    """One entry; _summary/_elements trim the matches only, never included resources."""
    resource = (shape(version.resource, outcome.summary, outcome.elements) if mode == "match"
                else version.resource)
    return {"fullUrl": full_url(base, version), "resource": resource, "search": {"mode": mode}}


def searchset(svc: Services, path: str, outcome: SearchOutcome) -> dict[str, Any]:
    """The searchset Bundle of one page."""
    base = svc.settings.base_url
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if outcome.total is not None:
        bundle["total"] = outcome.total
    links = [page_link(base, path, "self", outcome.self_params)]
    if outcome.next_params is not None:
        links.append(page_link(base, path, "next", outcome.next_params))
    if outcome.previous_params is not None:
        links.append(page_link(base, path, "previous", outcome.previous_params))
    bundle["link"] = links
    entries = [_entry(base, v, "match", outcome) for v in outcome.matches]
    entries += [_entry(base, v, "include", outcome) for v in outcome.included]
    if outcome.issues:
        entries.append({"resource": operation_outcome(outcome.issues),
                        "search": {"mode": "outcome"}})
    if entries:
        bundle["entry"] = entries
    return bundle


def search_type(svc: Services, type_name: str, params: Sequence[tuple[str, str]],
                strict: bool = False) -> dict[str, Any]:
    """Search the current resources of one type and return a searchset Bundle."""
    check_type(type_name)
    outcome = svc.search.search(type_name, params, strict=strict)
    return searchset(svc, type_name, outcome)


def search_compartment(svc: Services, compartment_id: str, type_name: str,
                       params: Sequence[tuple[str, str]], strict: bool = False,
                       compartment_type: str = "Patient") -> dict[str, Any]:
    """Search one type inside a compartment (GET [base]/Patient/[id]/[type], and likewise for
    Encounter, RelatedPerson, Practitioner and Device)."""
    check_type(type_name)
    check_id(compartment_id)
    if not svc.search.engine.by_ids(compartment_type, [compartment_id]):  # through the guard
        raise NotFound(f"{compartment_type}/{compartment_id} is not known")
    outcome = svc.search.search(type_name, params, strict=strict, compartment=compartment_id,
                                compartment_type=compartment_type)
    return searchset(svc, f"{compartment_type}/{compartment_id}/{type_name}", outcome)


def search_system(svc: Services, params: Sequence[tuple[str, str]], strict: bool = False
                  ) -> dict[str, Any]:
    """Search across types (GET [base]?_type=...)."""
    outcome = svc.search.search_system(params, strict=strict)
    return searchset(svc, "", outcome)
