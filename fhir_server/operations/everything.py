"""Patient/[id]/$everything: the patient and every resource in its compartment
(FHIR R4 patient-operation-everything.html), as a searchset Bundle in pages.

The Patient comes first, then each type of the Patient compartment (spec/compartments.json) in
name order, each by id. A page holds at most `_count` resources; whenever more exist it carries
a `next` link with an opaque `_cursor` (the last type and id returned), so nothing is ever cut
off silently. `_type` and `_since` narrow the record (the Patient itself is always first).

The record is the clinical record, never the audit trail: AuditEvent (who read what) and Group
(cohorts) are in the Patient compartment but not in the record, for any caller. `_type` takes
one or more parameters of comma-separated types; a type that is unknown, not in the record, or
excluded from it is a 400 naming it, as is a `_since` that is not a date/time.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from typing import Any

from fhir_server.auth.compartment import compartment_params, compartment_term
from fhir_server.errors import Forbidden, InvalidRequest, Unauthorized
from fhir_server.fhirdates import parse_instant
from fhir_server.interactions import crud
from fhir_server.interactions.bundles import full_url, int_param, page_link
from fhir_server.interactions.context import Services
from fhir_server.model.parse import check_id
from fhir_server.operations.registry import OperationCall, OperationResult, operation
from fhir_server.resource_types import RESOURCE_TYPES
from fhir_server.search.criteria import Criteria, IdAfter, Sort, Term, Updated
from fhir_server.storage.base import StoredVersion

LIMIT = 5000  # the largest (and default) page
BY_ID = Sort((("_id", 1),))
NOT_RECORD = frozenset({"AuditEvent", "Group"})  # the audit trail and cohorts: never shown


def record_types(wanted: set[str]) -> list[str]:
    """The types of a patient's record in page order: Patient, then its compartment types."""
    members = sorted(name for name in RESOURCE_TYPES if name != "Patient"
                     and name not in NOT_RECORD and compartment_params(name)
                     and (not wanted or name in wanted))
    return ["Patient", *members]


def wanted_types(values: list[str]) -> set[str]:
    """The types named by the `_type` parameters (400 for one not in a patient's record)."""
    wanted = {t.strip() for value in values for t in value.split(",") if t.strip()}
    record = set(record_types(set()))
    for name in sorted(wanted - record):
        if name in NOT_RECORD:
            why = "is not part of the health record (the audit trail and cohorts are not shown)"
        elif name in RESOURCE_TYPES:
            why = "is not in the Patient compartment, so it is not part of a patient's record"
        else:
            why = "is not a resource type of this server"
        raise InvalidRequest.at(f"_type: {name[:64]} {why}", "_type", "value")
    return wanted


def encode_cursor(type_name: str, resource_id: str) -> str:
    """The opaque `_cursor` of the position after this resource."""
    raw = json.dumps([type_name, resource_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str, types: list[str]) -> tuple[str, str]:
    """(type, id) of a `_cursor` (400 when it is not one of ours)."""
    try:
        padded = value + "=" * (-len(value) % 4)
        type_name, resource_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if type_name in types and isinstance(resource_id, str):
            return type_name, check_id(resource_id, "_cursor")
    except (ValueError, TypeError, binascii.Error, InvalidRequest):
        pass
    raise InvalidRequest.at("_cursor is not a cursor of this $everything", "_cursor", "value")


def _members(svc: Services, type_name: str, patient_id: str, terms: tuple[Term, ...],
             limit: int) -> Iterator[StoredVersion]:
    """Up to `limit` members of the patient's compartment of one type, by id."""
    criteria = Criteria((compartment_term(type_name, [patient_id]), *terms))
    try:  # through the door: a type the caller may not search is left out, not leaked
        yield from svc.store.find(type_name, criteria, sort=BY_ID, limit=limit)
    except (Forbidden, Unauthorized):
        return


def _page(svc: Services, patient: StoredVersion, types: list[str], since: Updated | None,
          start: tuple[str, str] | None, count: int) -> list[StoredVersion]:
    """At most count + 1 resources of the record from the position after `start`."""
    found: list[StoredVersion] = []
    if start is None:
        found.append(patient)
    begin = types.index(start[0]) if start else 0
    for type_name in types[begin:]:
        if type_name == "Patient" or len(found) > count:
            continue
        terms: tuple[Term, ...] = (since,) if since else ()
        if start is not None and type_name == start[0]:
            terms = (*terms, IdAfter(start[1]))
        found.extend(_members(svc, type_name, patient.id, terms, count + 1 - len(found)))
    return found


@operation("everything", instance=True, types=("Patient",), methods=("GET", "POST"),
           access="instance-read",
           documentation="The patient's record: the Patient and its compartment (_since, "
                         "_type, _count, paged with next links)")
def everything(svc: Services, call: OperationCall) -> OperationResult:
    """Collect the Patient and the resources that reference it through compartment params."""
    patient_id = str(call.resource_id)
    patient = crud.read(svc, "Patient", patient_id)
    asked_values = [str(value) for name, value in call.parameters() if name == "_type"]
    wanted = wanted_types(asked_values)
    asked = ",".join(sorted(wanted))
    since_value = call.first("_since")
    since = Updated(gte=parse_instant(str(since_value), "_since")) if since_value else None
    count = int_param(str(call.first("_count", LIMIT)), "_count", 1, LIMIT)
    types = record_types(wanted)
    cursor = call.first("_cursor")
    start = decode_cursor(str(cursor), types) if cursor else None
    versions = _page(svc, patient, types, since, start, count)
    more = len(versions) > count
    versions = versions[:count]
    base = svc.settings.base_url
    kept = [(name, str(value)) for name, value in (("_type", asked), ("_since", since_value))
            if value]
    path = f"Patient/{patient_id}/$everything"
    links = [page_link(base, path, "self", [*kept, ("_count", str(count)),
                                            *([("_cursor", str(cursor))] if cursor else [])])]
    if more:
        last = versions[-1]
        links.append(page_link(base, path, "next", [*kept, ("_count", str(count)),
                                                    ("_cursor", encode_cursor(last.type,
                                                                              last.id))]))
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "link": links,
                              "entry": [{"fullUrl": full_url(base, v), "resource": v.resource,
                                         "search": {"mode": "match"}} for v in versions]}
    if start is None and not more:
        bundle["total"] = len(versions)  # the whole record is on this page
    return OperationResult(bundle)
