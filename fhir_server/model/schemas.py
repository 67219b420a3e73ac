"""Compact JSON Schemas (OpenAPI 3.0) of the resources, Bundle and OperationOutcome we serve.

Each stored type gets its top-level properties from its `fhir.resources` model (what the
validator accepts), with `resourceType` required and fixed: nested elements are plain objects,
so the document stays small (about 5 kB a type) while every response can be checked against it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic.json_schema import models_json_schema

# datatypes.html#primitive regexes: date and dateTime (instant is a dateTime with seconds + zone)
DATE = ("([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
        "(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?")
DATE_TIME = ("([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])"
             "(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)"
             r"(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?")
_FORMATS = {"date": f"^{DATE}$", "date-time": f"^{DATE_TIME}$"}
_KEPT = ("type", "pattern", "minLength", "maxLength", "minimum", "maximum")
OBJECT: dict[str, Any] = {"type": "object"}
ANY_RESOURCE: dict[str, Any] = {"type": "object", "required": ["resourceType"],
                                "properties": {"resourceType": {"type": "string"}}}


def _compact(prop: dict[str, Any], element: bool) -> dict[str, Any]:
    """A pydantic property schema without null, titles and descriptions; elements are objects."""
    options = [option for option in prop.get("anyOf", [prop]) if option.get("type") != "null"]
    if len(options) > 1:
        return {"anyOf": [_compact(option, element) for option in options]}
    option = options[0] if options else {}
    if option.get("type") == "array":
        return {"type": "array", "items": _compact(option.get("items", {}), element)}
    compact = {key: option[key] for key in _KEPT if key in option}
    if "pattern" in compact and not compact["pattern"].startswith("^"):
        del compact["pattern"]  # unanchored patterns (\S*) constrain nothing
    if option.get("format") in _FORMATS:  # FHIR dates may be partial: not JSON Schema formats
        compact["pattern"] = _FORMATS[option["format"]]
    if not compact and element:
        return dict(OBJECT)
    return compact


def resource_json_schemas(type_names: Iterable[str]) -> dict[str, Any]:
    """Component schemas (name -> compact JSON Schema) of these resource types."""
    names = list(type_names)
    models: list[Any] = [(get_fhir_model_class(name), "validation") for name in names]
    _, generated = models_json_schema(models, ref_template="#/components/schemas/{model}")
    definitions = generated.get("$defs", {})
    schemas: dict[str, Any] = {}
    for name in names:
        source = definitions[name]
        properties: dict[str, Any] = {"resourceType": {"type": "string", "enum": [name]}}
        for key, prop in source.get("properties", {}).items():
            if key != "resourceType":
                element = bool(prop.get("element_property")) and not key.startswith("_")
                properties[key] = _compact(prop, element)
        required = ["resourceType", *(key for key in source.get("required", [])
                                      if key != "resourceType")]
        schemas[name] = {"type": "object", "required": required, "properties": properties,
                         "additionalProperties": False}
    return schemas


def operation_outcome_schema() -> dict[str, Any]:
    """OperationOutcome as this server sends it (operationoutcome.html): at least one issue."""
    issue = {"type": "object", "required": ["severity", "code"], "properties": {
        "severity": {"type": "string", "enum": ["fatal", "error", "warning", "information"]},
        "code": {"type": "string", "pattern": "^[a-z-]+$"},
        "details": OBJECT, "diagnostics": {"type": "string"},
        "location": {"type": "array", "items": {"type": "string"}},
        "expression": {"type": "array", "items": {"type": "string"}}}}
    return {"type": "object", "required": ["resourceType", "issue"], "properties": {
        "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
        "id": {"type": "string"}, "meta": OBJECT, "text": OBJECT,
        "issue": {"type": "array", "minItems": 1, "items": issue}}}


def bundle_schema() -> dict[str, Any]:
    """Bundle (bundle.html) as searchset, history, batch/transaction-response or request."""
    entry = {"type": "object", "properties": {
        "fullUrl": {"type": "string"}, "resource": ANY_RESOURCE,
        "search": {"type": "object", "properties": {
            "mode": {"type": "string", "enum": ["match", "include", "outcome"]},
            "score": {"type": "number"}}},
        "request": {"type": "object", "properties": {
            "method": {"type": "string"}, "url": {"type": "string"}}},
        "response": {"type": "object", "properties": {
            "status": {"type": "string"}, "location": {"type": "string"},
            "etag": {"type": "string"}, "lastModified": {"type": "string"},
            "outcome": ANY_RESOURCE}}}}
    link = {"type": "object", "required": ["relation", "url"], "properties": {
        "relation": {"type": "string"}, "url": {"type": "string"}}}
    return {"type": "object", "required": ["resourceType", "type"], "properties": {
        "resourceType": {"type": "string", "enum": ["Bundle"]},
        "id": {"type": "string"}, "meta": OBJECT, "identifier": OBJECT,
        "type": {"type": "string", "enum": [
            "document", "message", "transaction", "transaction-response", "batch",
            "batch-response", "history", "searchset", "collection"]},
        "timestamp": {"type": "string"}, "total": {"type": "integer", "minimum": 0},
        "link": {"type": "array", "items": link},
        "entry": {"type": "array", "items": entry}}}


def capability_statement_schema() -> dict[str, Any]:
    """The CapabilityStatement of GET /metadata (capabilitystatement.html), top level only."""
    return {"type": "object", "required": ["resourceType", "status", "kind", "fhirVersion"],
            "properties": {
                "resourceType": {"type": "string", "enum": ["CapabilityStatement"]},
                "status": {"type": "string"}, "kind": {"type": "string"},
                "fhirVersion": {"type": "string"}, "date": {"type": "string"},
                "format": {"type": "array", "items": {"type": "string"}},
                "rest": {"type": "array", "items": OBJECT}}}
