"""Errors of one Bundle entry: every issue pointed at `Bundle.entry[i]` (+ the inner path)."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

from fhir_server.errors import FhirError, Issue
from fhir_server.interactions.bundle_parse import Entry

_HEADER_ELEMENTS = {"If-Match": "request.ifMatch", "ifMatch": "request.ifMatch",
                    "If-None-Exist": "request.ifNoneExist"}


@dataclass
class EntryError(FhirError):
    """An error located in one entry of the request Bundle (keeps the original status)."""

    entry_index: int = -1


def status_line(status: int) -> str:
    """'201 Created' for 201 (Bundle.entry.response.status)."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _expression(entry: Entry, expression: str, fallback: str) -> str:
    """An issue expression of an entry's interaction, rooted in the request Bundle."""
    if expression.startswith("Bundle.entry["):
        return expression
    resource_type = (entry.resource or {}).get("resourceType") or entry.type_name
    if isinstance(resource_type, str) and (
            expression == resource_type or expression.startswith((resource_type + ".",
                                                                   resource_type + "["))):
        return f"{entry.where}.resource{expression[len(resource_type):]}"
    if expression == "resourceType":
        return f"{entry.where}.resource.resourceType"
    if expression in _HEADER_ELEMENTS:
        return f"{entry.where}.{_HEADER_ELEMENTS[expression]}"
    return f"{entry.where}.{fallback}"


def at_entry(error: FhirError, entry: Entry, fallback: str = "request.url") -> EntryError:
    """The same error (status, headers) with its issues located in the entry; search-parameter
    names and other bare expressions point at `fallback` (e.g. request.url, ifNoneExist)."""
    if isinstance(error, EntryError):
        return error
    issues = []
    for issue in error.issues:
        expressions = tuple(_expression(entry, e, fallback) for e in issue.expression) or (
            entry.where,)
        text = issue.diagnostics
        if not text.startswith("Bundle.entry["):
            text = f"{entry.where} ({entry.label}): {text}"
        issues.append(Issue(issue.code, text, issue.severity, expressions))
    message = error.message if error.message.startswith("Bundle.entry[") else (
        f"{entry.where} ({entry.label}): {error.message}")
    return EntryError(message, issues, dict(error.headers), error.status, error.code,
                      entry.index)
