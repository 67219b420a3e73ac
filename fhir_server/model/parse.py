"""Validate client JSON as a FHIR R4 resource (fhir.resources R4B + the checks it lacks)."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from fhir_server.errors import InvalidRequest, NotFound
from fhir_server.outcome import issues_from_pydantic
from fhir_server.resource_types import is_supported
from fhir_server.validation.fast_check import certainly_valid

ID_PATTERN = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def check_id(resource_id: str, expression: str = "id") -> str:
    """Reject ids that are not FHIR ids ([A-Za-z0-9-.]{1,64})."""
    if not ID_PATTERN.fullmatch(resource_id) or resource_id in (".", ".."):  # path segments
        raise InvalidRequest.at(f"Invalid resource id '{resource_id[:80]}'", expression, "value")
    return resource_id


def check_type(type_name: str) -> str:
    """Reject resource types this server does not store (404 on URLs)."""
    if not is_supported(type_name):
        raise NotFound(f"Resource type '{type_name[:80]}' is not supported by this server")
    return type_name


@cache
def _model_class(type_name: str) -> Any:
    try:
        return get_fhir_model_class(type_name)
    except (KeyError, ValueError):
        raise InvalidRequest.at(f"Unknown resource type '{type_name[:80]}'", "resourceType",
                                "not-supported") from None


def validate_resource(data: Any, expected_type: str | None = None,
                      stored_only: bool = True, *, fast_path: bool = True) -> dict[str, Any]:
    """Check that data is a valid resource of a supported (and expected) type; return it as is.

    stored_only=False accepts any R4 resource type (Parameters, Bundle, OperationOutcome...).
    fast_path=False always asks fhir.resources (the reference the fast path is tested against).
    """
    if not isinstance(data, dict):
        raise InvalidRequest("The body must be a JSON object holding a FHIR resource",
                             code="structure")
    type_name = data.get("resourceType")
    if not isinstance(type_name, str) or not type_name:
        raise InvalidRequest.at("Missing resourceType", "resourceType", "structure")
    if expected_type is not None and type_name != expected_type:
        raise InvalidRequest.at(
            f"resourceType '{type_name[:80]}' does not match the URL type '{expected_type}'",
            "resourceType", "invalid")
    if stored_only and not is_supported(type_name):
        raise InvalidRequest.at(f"Resource type '{type_name[:80]}' is not supported",
                                "resourceType", "not-supported")
    if "id" in data:
        if not isinstance(data["id"], str):
            raise InvalidRequest.at("id must be a string", f"{type_name}.id", "value")
        check_id(data["id"], f"{type_name}.id")
    if not (fast_path and certainly_valid(data, type_name)):  # else both would pass
        json_issues = _json_type_issues(data, type_name)
        if json_issues:
            raise InvalidRequest("The resource is not valid FHIR R4 JSON", code="structure",
                                 issues=json_issues)
        _check_model(data, type_name)
    issues = _structure_issues(data)
    if issues:
        raise InvalidRequest("The resource breaks FHIR R4 rules", code="invalid", issues=issues)
    return data


def _check_model(data: dict[str, Any], type_name: str) -> None:
    """The reference: fhir.resources' verdict on data (its known false rejections excepted)."""
    try:
        _model_class(type_name).model_validate(data)
    except ValidationError as exc:
        errors = [dict(e) for e in exc.errors()
                  if not _primitive_extension_ok(data, e) and not _xml_whitespace_ok(e)]
        if errors:
            raise InvalidRequest("The resource is not valid FHIR R4", code="structure",
                                 issues=issues_from_pydantic(type_name, errors)) from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise InvalidRequest.at(f"The resource is not valid FHIR R4: {exc}"[:500], type_name,
                                "structure") from None


_CODE_PATTERN = r"^[^\s]+(\s[^\s]+)*$"
_XML_CODE = re.compile(r"[^ \t\r\n]+([ \t\r\n][^ \t\r\n]+)*")


def _xml_whitespace_ok(error: Any) -> bool:
    """FHIR regexes use XML Schema's \\s ([ \\t\\r\\n]); Python's also matches U+00A0 and
    friends, so fhir.resources wrongly rejects codes holding a non-breaking space."""
    pattern = (error.get("ctx") or {}).get("pattern")
    value = error.get("input")
    return (error.get("type") == "string_pattern_mismatch" and pattern == _CODE_PATTERN
            and isinstance(value, str) and _XML_CODE.fullmatch(value) is not None)


_EXTENSION_PRIMITIVES = frozenset(
    "value" + kind[0].upper() + kind[1:] for kind in (
        "base64Binary", "boolean", "canonical", "code", "date", "dateTime", "decimal", "id",
        "instant", "integer", "markdown", "oid", "positiveInt", "string", "time", "unsignedInt",
        "uri", "url", "uuid"))


def _at(data: Any, location: tuple[Any, ...]) -> Any:
    for step in location:
        data = data[step]
    return data


def _primitive_extension_ok(data: dict[str, Any], error: Any) -> bool:
    """fhir.resources rejects some valid `_element` primitive extensions (e.g. `_valueString` in
    an Extension); accept them when the sibling value exists and the content is a valid Element."""
    location = tuple(error.get("loc", ()))
    if error.get("type") != "extra_forbidden" or not location:
        return False
    name = location[-1]
    if not isinstance(name, str) or not name.startswith("_"):
        return False
    try:
        parent = _at(data, location[:-1])
    except (KeyError, IndexError, TypeError):
        return False
    if not isinstance(parent, dict):
        return False
    if name[1:] not in parent and not ("url" in parent and name[1:] in _EXTENSION_PRIMITIVES):
        return False
    elements = parent[name] if isinstance(parent[name], list) else [parent[name]]
    extension_model = _model_class("Extension")
    for element in elements:
        if element is None:
            continue
        if not isinstance(element, dict) or not set(element) <= {"id", "extension"}:
            return False
        try:
            for extension in element.get("extension", []):
                extension_model.model_validate(extension)
        except (ValidationError, TypeError, ValueError):
            return False
    return True


def _structure_issues(data: dict[str, Any]) -> list[Any]:
    from fhir_server.validation.structure import check_structure

    return check_structure(data)


def _json_type_issues(data: dict[str, Any], type_name: str) -> list[Any]:
    from fhir_server.validation.json_types import check_json_types

    return check_json_types(data, type_name)
