"""Invoke a registered $operation (FHIR R4 operations.html) from any door: a single request
(rest/operations.py) or a batch/transaction entry (interactions/bundle_operations.py).

`resolve` finds the definition for where and how it was called (404 unknown at that level,
405 + Allow for another method); `authorize` notes the call in the audit unit, then checks the
caller before the handler runs.
"""

from __future__ import annotations

from fhir_server.auth import guard
from fhir_server.errors import MethodNotAllowed, NotFound
from fhir_server.interactions import crud
from fhir_server.interactions.context import Services
from fhir_server.model.parse import check_id, check_type
from fhir_server.operations.registry import OperationCall, OperationDefinition, find


def resolve(name: str, type_name: str | None, resource_id: str | None,
            method: str) -> OperationDefinition:
    """The operation called as `method` at this level (404 / 405 with Allow)."""
    definition = find(name)
    level_ok = definition is not None and (
        (type_name is None and definition.system)
        or (type_name is not None and resource_id is None and definition.type_level)
        or (resource_id is not None and definition.instance))
    if definition is None or not level_ok or (
            type_name is not None and definition.types and type_name not in definition.types):
        where = "/".join(p for p in (type_name, resource_id) if p) or "the system level"
        raise NotFound(f"Operation ${name[:60]} is not supported on {where}")
    if type_name is not None:
        check_type(type_name)
    if resource_id is not None:
        check_id(resource_id)
    if method not in definition.methods:
        error = MethodNotAllowed(f"${name} does not accept {method}")
        error.headers = {"Allow": ", ".join(definition.methods)}
        raise error
    return definition


def _note(svc: Services, definition: OperationDefinition, call: OperationCall) -> None:
    """Name the operation and its target in the audit unit before any check, so a refused
    call is audited too (FHIR R4 security.html#audit: every access attempt)."""
    unit = svc.store.unit
    unit.query = f"${call.name}" + (f"?{unit.query}" if unit.query else "")
    if call.type_name is not None:
        unit.touch(call.type_name, call.resource_id)
    for type_name in definition.audit_scope(call) if definition.audit_scope else ():
        unit.name(type_name)  # as asked, shared types too: this operation is audited


def authorize(svc: Services, definition: OperationDefinition, call: OperationCall) -> None:
    """Audit the attempt, then check the caller may invoke it here (403/404 otherwise)."""
    _note(svc, definition, call)
    instance = (crud.read(svc, call.type_name, call.resource_id).resource
                if call.type_name is not None and call.resource_id is not None
                and definition.access == "instance-read" else None)
    guard.check_operation(definition.access, call.type_name, instance, svc.settings.base_url,
                          svc.caller)
