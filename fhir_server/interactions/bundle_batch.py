"""The batch interaction (FHIR R4 http.html#transaction, batch rules): each entry on its own.

Entries run in the transaction order (DELETE, POST, PUT/PATCH, GET/HEAD) but independently: a
failing entry gets its error status and OperationOutcome in the batch-response, the others are
applied. References between batch entries (placeholders) are not allowed by the specification and
fail that entry; conditional references are resolved.
"""

from __future__ import annotations

from typing import Any

from fhir_server.errors import FhirError, InvalidRequest
from fhir_server.interactions import crud
from fhir_server.interactions.bundle_entry import (
    EntryResult,
    delete_entry,
    entry_interaction,
    error_entry,
    match_one,
    patch_entry,
    read_entry,
    response_entry,
    write_entry,
)
from fhir_server.interactions.bundle_errors import EntryError, at_entry
from fhir_server.interactions.bundle_parse import Entry, is_placeholder, parse_entry
from fhir_server.interactions.bundle_refs import ReferenceMap, reference_strings
from fhir_server.interactions.context import Services

ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}


def _conditional(svc: Services) -> Any:
    def resolve(reference: str) -> str:
        """The Type/id a conditional reference matches (400 none, 412 several)."""
        type_name, _, criteria = reference.partition("?")
        found = match_one(svc, type_name, criteria, "reference")
        if found is None:
            raise InvalidRequest(f"no {type_name} matches", code="not-found")
        return f"{type_name}/{found.id}"
    return resolve


def _resource(svc: Services, entry: Entry, full_urls: set[str]) -> dict[str, Any]:
    """The entry's resource with conditional references resolved (no placeholders allowed)."""
    assert entry.resource is not None
    for reference in reference_strings(entry.resource):
        if is_placeholder(reference) or reference in full_urls:
            raise InvalidRequest(
                f"{entry.where}: '{reference[:100]}' refers to another entry; references "
                "between batch entries are not allowed (send a transaction instead)",
                code="invalid")
    return ReferenceMap(svc.settings.base_url, _conditional(svc)).rewrite(
        entry.resource, f"{entry.where}.resource")


def _run(svc: Services, entry: Entry, full_urls: set[str]) -> EntryResult:
    type_name = entry.type_name
    if entry.method in ("GET", "HEAD") or entry.operation is not None:
        return read_entry(svc, entry)  # reads and $operations
    assert type_name is not None
    if entry.method == "DELETE":
        if entry.conditional:
            tombstone = crud.conditional_delete(svc, type_name, entry.query or "")
            return EntryResult(200, tombstone, text=f"Deleted {type_name}/{tombstone.id}")
        assert entry.resource_id is not None
        return delete_entry(svc, type_name, entry.resource_id, entry.if_match)
    if entry.method == "PATCH":
        return patch_entry(svc, entry)
    resource = _resource(svc, entry, full_urls)
    if entry.method == "POST":
        return EntryResult.of_write(crud.create(svc, type_name, resource, entry.if_none_exist))
    if entry.conditional:
        return EntryResult.of_write(crud.conditional_update(
            svc, type_name, entry.query or "", resource, entry.if_match))
    assert entry.resource_id is not None
    return write_entry(svc, type_name, resource, entry.resource_id, entry.if_match)


def run_batch(svc: Services, raw_entries: list[Any],
              prefer: str = "representation") -> dict[str, Any]:
    """Apply each entry independently and return the batch-response Bundle."""
    base = svc.settings.base_url
    responses: list[dict[str, Any] | None] = [None] * len(raw_entries)
    entries: list[Entry] = []
    for index, raw in enumerate(raw_entries):
        try:
            entries.append(parse_entry(raw, index, base))
        except FhirError as error:
            responses[index] = error_entry(error.status, error.issues)
    full_urls = {entry.full_url for entry in entries if entry.full_url}
    for entry in sorted(entries, key=lambda e: (ORDER[e.method], e.index)):
        fallback = "request.ifNoneExist" if entry.if_none_exist else "request.url"
        try:
            with svc.store.audit_unit(entry_interaction(entry), entry.method,
                                      entry.query) as unit:  # one AuditEvent per entry
                result = _run(svc, entry, full_urls)
                unit.status = result.status
            responses[entry.index] = response_entry(result, entry, base, prefer)
        except EntryError as error:
            responses[entry.index] = error_entry(error.status, error.issues)
        except FhirError as error:
            located = at_entry(error, entry, fallback)
            responses[entry.index] = error_entry(located.status, located.issues)
    return {"resourceType": "Bundle", "type": "batch-response",
            "entry": [response for response in responses if response is not None]}
