"""The OperationDefinitions the CapabilityStatement names, made from the operations registry.

An operation whose definition is an official R4 one (its `definition` URL, or [Type]-[code] /
Resource-[code] when it names none) is described by that definition, copied from the spec
(operation_definitions.json, made by make_definitions.py). Any other (Bulk Data export, SMART
Health Cards, this server's own) gets a definition made from its registry entry: its code,
levels, types, whether it changes state, and the external definition it implements as `base`.
They are loaded into the store with the conformance resources (conformance.py), so
`GET [base]/OperationDefinition/[id]` and `?url=` find each one.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from fhir_server.operations.registry import OperationDefinition, all_operations
from fhir_server.resource_types import is_supported

OFFICIAL = "http://hl7.org/fhir/OperationDefinition/"
DATA = Path(__file__).resolve().parent / "operation_definitions.json"


@cache
def _official() -> dict[str, dict[str, Any]]:
    """url -> the official definitions of our operations (spec data)."""
    if not DATA.is_file():
        return {}
    return dict(json.loads(DATA.read_bytes()))


def candidates(operation: OperationDefinition) -> list[str]:
    """The official canonical URLs that could define this operation, preferred first."""
    if operation.definition:
        return [operation.definition] if operation.definition.startswith(OFFICIAL) else []
    return [f"{OFFICIAL}{type_name}-{operation.name}" for type_name in operation.types] + [
        f"{OFFICIAL}Resource-{operation.name}"]


def canonical(operation: OperationDefinition, base_url: str) -> str:
    """The canonical URL of the definition the CapabilityStatement names for an operation."""
    known = _official()
    for url in candidates(operation):
        if url in known:
            return url
    return operation.definition or f"{base_url}/OperationDefinition/{operation.name}"


def _made(operation: OperationDefinition, url: str) -> dict[str, Any]:
    """A definition made from the registry entry (no official one exists)."""
    words = operation.name.replace("-", " ").title().replace(" ", "")
    made: dict[str, Any] = {
        "resourceType": "OperationDefinition", "id": operation.name, "url": url,
        "name": words, "title": f"${operation.name}", "status": "active",
        "kind": "operation", "description": operation.documentation or f"${operation.name}",
        "affectsState": operation.affects_state, "code": operation.name,
        "system": operation.system, "type": operation.type_level,
        "instance": operation.instance}
    if operation.types:
        made["resource"] = list(operation.types)
    if operation.parameters:
        made["parameter"] = [dict(parameter) for parameter in operation.parameters]
    if operation.definition and operation.definition != url:
        made["base"] = operation.definition
    return made


def _resource_id(url: str, operation: OperationDefinition) -> str:
    """A stable id: the official id, else the operation's code."""
    return url.removeprefix(OFFICIAL) if url.startswith(OFFICIAL) else operation.name


def operation_definitions(base_url: str) -> list[dict[str, Any]]:
    """One OperationDefinition per distinct canonical the CapabilityStatement names."""
    if not is_supported("OperationDefinition"):
        return []
    out: dict[str, dict[str, Any]] = {}
    for operation in all_operations():
        url = canonical(operation, base_url)
        if url in out:
            continue
        official = _official().get(url)
        resource = dict(official) if official is not None else _made(operation, url)
        resource["id"] = _resource_id(url, operation)
        out[url] = resource
    return list(out.values())
