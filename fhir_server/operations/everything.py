"""Patient/[id]/$everything: the patient and every resource in its compartment
(FHIR R4 patient-operation-everything.html), as a searchset Bundle."""

from __future__ import annotations

from typing import Any

from fhir_server.auth.compartment import compartment_params, compartment_term
from fhir_server.errors import Forbidden, Unauthorized
from fhir_server.fhirdates import parse_instant
from fhir_server.interactions import crud
from fhir_server.interactions.bundles import full_url, int_param
from fhir_server.interactions.context import Services
from fhir_server.operations.registry import OperationCall, OperationResult, operation
from fhir_server.resource_types import RESOURCE_TYPES
from fhir_server.search.criteria import Criteria, Updated

LIMIT = 5000


@operation("everything", instance=True, types=("Patient",), methods=("GET", "POST"),
           access="instance-read",
           documentation="The patient's record: the Patient and its compartment (_since, "
                         "_type, _count)")
def everything(svc: Services, call: OperationCall) -> OperationResult:
    """Collect the Patient and the resources that reference it through compartment params."""
    patient_id = str(call.resource_id)
    patient = crud.read(svc, "Patient", patient_id)
    wanted = {t.strip() for value in [call.first("_type")] if value
              for t in str(value).split(",")}
    since = call.first("_since")
    moment = parse_instant(str(since), "_since") if since else None
    limit = int_param(str(call.first("_count", LIMIT)), "_count", 1, LIMIT)
    versions = [patient]
    for type_name in RESOURCE_TYPES:
        if type_name == "Patient" or not compartment_params(type_name) or (
                wanted and type_name not in wanted):
            continue
        criteria = Criteria((compartment_term(type_name, [patient_id]),))
        if moment is not None:
            criteria = criteria.and_(Updated(gte=moment))
        try:  # through the door: a type the caller may not search is left out, not leaked
            versions.extend(svc.store.find(type_name, criteria, limit=limit + 1))
        except (Forbidden, Unauthorized):
            continue
    truncated = len(versions) > limit
    entries = [{"fullUrl": full_url(svc.settings.base_url, v), "resource": v.resource,
                "search": {"mode": "match"}} for v in versions[:limit]]
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset",
                              "total": len(entries), "entry": entries}
    if truncated:
        bundle["link"] = [{"relation": "self", "url": f"{svc.settings.base_url}/Patient/"
                                                      f"{patient_id}/$everything"}]
        bundle["entry"].append({"resource": {"resourceType": "OperationOutcome", "issue": [{
            "severity": "warning", "code": "too-costly",
            "diagnostics": f"Only the first {limit} resources are returned"}]},
            "search": {"mode": "outcome"}})
    return OperationResult(bundle)
