"""OpenAPI search parameters (from the search registry), compartments and $operations.

Each supported search parameter of a type becomes a query parameter (its FHIR type in the
description, `schema: string`), shared as one component per (code, FHIR type); the result
parameters of search.html#return ride on every search route.
"""

from __future__ import annotations

import re
from typing import Any

from fhir_server.operations.registry import OperationDefinition, all_operations
from fhir_server.resource_types import RESOURCE_TYPES
from fhir_server.search.registry import supported_params
from fhir_server.spec import compartments

FHIR_BODY = "application/fhir+json"
JSON_BODY = "application/json"
COMMON_PARAMS = {
    "_count": ({"type": "integer"}, "page size (search.html#count)"),
    "_sort": ({"type": "string"}, "sort order, comma separated, '-' for descending"),
    "_include": ({"type": "string"}, "Type:param[:target] to include (repeatable)"),
    "_revinclude": ({"type": "string"}, "Type:param[:target] to revinclude (repeatable)"),
    "_summary": ({"type": "string", "enum": ["true", "false", "text", "data", "count"]},
                 "summary form"),
    "_elements": ({"type": "string"}, "elements to return, comma separated"),
    "_format": ({"type": "string"}, "json, xml, application/fhir+json, application/fhir+xml "
                                    "or application/json"),
    "_cursor": ({"type": "string"}, "paging cursor from a Bundle link"),
}


def _component_name(code: str, kind: str) -> str:
    return f"search.{code}.{kind}"


def _param(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def search_parameter_components() -> dict[str, Any]:
    """Component parameters: the result parameters, and each (code, FHIR type) searched on."""
    found: dict[str, Any] = {
        f"common.{name}": {"name": name, "in": "query", "required": False,
                           "description": text, "schema": schema}
        for name, (schema, text) in COMMON_PARAMS.items()}
    for type_name in RESOURCE_TYPES:
        for parameter in supported_params(type_name):
            key = _component_name(parameter.code, parameter.kind)
            found.setdefault(key, {
                "name": parameter.code, "in": "query", "required": False,
                "description": f"FHIR search parameter of type {parameter.kind}",
                "schema": {"type": "string"}})
    return found


def search_query(type_name: str | None) -> list[dict[str, str]]:
    """The query parameters of a search on a type (or of a system search)."""
    refs = {name: _param(f"common.{name}") for name in COMMON_PARAMS}
    if type_name is not None:
        for parameter in supported_params(type_name):
            refs.setdefault(parameter.code, _param(_component_name(parameter.code,
                                                                   parameter.kind)))
    for name in ("_id", "_lastUpdated"):
        refs.setdefault(name, _param(name))  # the shared components of rest/openapi.py
    return list(refs.values())


def compartment_paths() -> dict[str, dict[str, Any]]:
    """Compartment search [base]/[compartment]/[id]/[type] (GET, and POST _search)."""
    paths: dict[str, dict[str, Any]] = {}
    for compartment in sorted(compartments()):
        members = sorted({*compartments()[compartment], compartment})
        parameters = [{"name": "id", "in": "path", "required": True, "schema": {
            "type": "string"}}, {"name": "type", "in": "path", "required": True,
                                 "schema": {"type": "string", "enum": members}}]
        answer = {"200": {"$ref": "#/components/responses/Bundle"},
                  **{str(c): {"$ref": f"#/components/responses/Error{c}"}
                     for c in (400, 401, 403, 404, 406, 415, 503)}}
        tag = ["compartment"]
        paths[f"/{compartment}/{{id}}/{{type}}"] = {"parameters": parameters, "get": {
            "tags": tag, "summary": f"Search in a {compartment}'s compartment",
            "parameters": search_query(None), "responses": answer}}
        paths[f"/{compartment}/{{id}}/{{type}}/_search"] = {"parameters": parameters, "post": {
            "tags": tag, "summary": f"Search in a {compartment}'s compartment (form body)",
            "requestBody": {"required": False, "content": {
                "application/x-www-form-urlencoded": {"schema": {"type": "object"}}}},
            "responses": answer}}
    return paths


def _operation_object(definition: OperationDefinition, method: str, where: str
                      ) -> dict[str, Any]:
    """One $operation at one level and method: Parameters body on POST, any resource back."""
    result = {"$ref": "#/components/responses/OperationResult"}
    operation: dict[str, Any] = {
        "tags": ["operations"], "summary": f"${definition.name} ({where})",
        "description": definition.documentation or f"access: {definition.access}",
        "responses": {"200": result, "201": result,
                      "202": {"description": "Accepted (asynchronous: Content-Location)"},
                      **{str(c): {"$ref": f"#/components/responses/Error{c}"}
                         for c in (400, 401, 403, 404, 405, 422)}}}
    if definition.access == "public":
        operation["security"] = []
    if method == "post":
        operation["requestBody"] = {"required": False, "content": {
            m: {"schema": {"$ref": "#/components/schemas/Parameters"}}
            for m in (FHIR_BODY, JSON_BODY)}}
    elif inputs := [p for p in definition.parameters if p.get("use") == "in"]:
        operation["parameters"] = [{  # its OperationDefinition's inputs, as query parameters
            "name": p["name"], "in": "query", "required": False,
            "description": f"{p.get('type', '')} {p['min']}..{p['max']}: "
                           f"{p.get('documentation', '')}".strip(),
            "schema": ({"type": "array", "items": {"type": "string"}} if p["max"] == "*"
                       else {"type": "string"}),
            **({"explode": True} if p["max"] == "*" else {})} for p in inputs]
    return operation


def operation_responses() -> dict[str, Any]:
    """Component response of the $operations: any resource (Parameters, Bundle, ...)."""
    return {"OperationResult": {
        "description": "Operation result (a resource: Parameters, Bundle, ...)",
        "content": {m: {"schema": {"$ref": "#/components/schemas/AnyResource"}}
                    for m in (FHIR_BODY, JSON_BODY)}}}


def operation_paths() -> dict[str, dict[str, Any]]:
    """Every registered $operation at its system, type and instance levels."""
    paths: dict[str, dict[str, Any]] = {}
    rid = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    any_type = {"name": "type", "in": "path", "required": True,
                "schema": {"type": "string", "enum": list(RESOURCE_TYPES)}}
    for definition in all_operations():
        methods = [m.lower() for m in definition.methods]
        levels: list[tuple[str, str, list[dict[str, Any]]]] = []
        if definition.system:
            levels.append((f"/${definition.name}", "system", []))
        types = [f"/{t}" for t in definition.types] or ["/{type}"]
        extra = [] if definition.types else [any_type]
        for head in types:
            if definition.type_level:
                levels.append((f"{head}/${definition.name}", "type", extra))
            if definition.instance:
                levels.append((f"{head}/{{id}}/${definition.name}", "instance", [*extra, rid]))
        for path, where, parameters in levels:
            item: dict[str, Any] = {m: _operation_object(definition, m, where) for m in methods}
            if parameters:
                item["parameters"] = parameters
            paths[path] = item
    return paths


def name_operations(paths: dict[str, dict[str, Any]]) -> None:
    """Give every operation a unique operationId from its method and path (for generators)."""
    for path, item in paths.items():
        for method, operation in item.items():
            if method != "parameters" and "operationId" not in operation:
                words = re.sub(r"[^A-Za-z0-9]+", "_", f"{method}{path}").strip("_")
                operation["operationId"] = words
