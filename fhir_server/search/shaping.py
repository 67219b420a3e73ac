"""_summary and _elements (search.html#summary, #elements): trim returned resources.

A trimmed resource is marked with the SUBSETTED tag, as the spec requires. Search applies them
to the matches (interactions/search.py); read and vread to the one resource (`read_shaping`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fhir_server.errors import InvalidRequest
from fhir_server.model.elements import element_names, mandatory_elements, summary_elements
from fhir_server.search.summary_data import MANDATORY, SUMMARY

SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
             "code": "SUBSETTED", "display": "Resource encoded in summary mode"}
ALWAYS = ("resourceType", "id", "meta")
READ_SUMMARIES = ("true", "false", "text", "data")


@dataclass(frozen=True)
class Shaping:
    """What _summary / _elements ask of a returned resource (both None: the whole)."""

    summary: str | None = None
    elements: list[str] | None = None


def _summary_of(type_name: str) -> tuple[str, ...]:
    return SUMMARY.get(type_name) or summary_elements(type_name)


def _mandatory_of(type_name: str) -> tuple[str, ...]:
    return MANDATORY.get(type_name) or mandatory_elements(type_name)


def read_shaping(type_name: str, params: Sequence[tuple[str, str]]) -> Shaping:
    """_summary / _elements of a read or vread (400 with the parameter as expression when bad;
    count is for searches only)."""
    summary: str | None = None
    elements: list[str] | None = None
    for name, value in params:
        if name == "_summary":
            if value not in READ_SUMMARIES:
                raise InvalidRequest.at(
                    f"_summary must be one of {', '.join(READ_SUMMARIES)} on a read, not "
                    f"'{value[:40]}' (search.html#summary)", "_summary", "value")
            summary = None if value == "false" else value
        elif name == "_elements":
            elements = check_elements([type_name], value)
    return Shaping(summary, elements)


def check_elements(type_names: Sequence[str], value: str) -> list[str]:
    """The element names of an _elements value (400 for one none of the types has; an element
    may be prefixed with its type: Patient.name)."""
    known: set[str] = set()
    for type_name in type_names:
        known |= element_names(type_name)
    elements = []
    for raw in value.split(","):
        element = raw.strip()
        head, dot, tail = element.partition(".")
        if dot and head in type_names:
            element = tail
        if not element:
            continue
        if known and element not in known:
            raise InvalidRequest.at(f"{' or '.join(type_names)[:80]} has no element "
                                    f"'{element[:60]}' (_elements names top-level elements; "
                                    "search.html#elements)", "_elements", "value")
        elements.append(element)
    if not elements:
        raise InvalidRequest.at("_elements names no element", "_elements", "value")
    return elements


def _matches(key: str, elements: tuple[str, ...] | set[str]) -> bool:
    """True when a JSON key is one of the elements (choices: deceased[x] -> deceasedBoolean)."""
    if key.startswith("_"):
        key = key[1:]  # primitive extensions follow their element
    if key in elements:
        return True
    for element in elements:
        base = element.removesuffix("[x]")
        if key.startswith(base) and key[len(base):][:1].isupper():
            return True  # a choice: deceased[x] (or deceased) -> deceasedBoolean
    return False


def _tagged(resource: dict[str, Any]) -> dict[str, Any]:
    meta = dict(resource.get("meta") or {})
    tags = [t for t in meta.get("tag", []) if t.get("code") != "SUBSETTED"]
    meta["tag"] = [*tags, SUBSETTED]
    return {**resource, "meta": meta}


def shape(resource: dict[str, Any], summary: str | None, elements: list[str] | None
          ) -> dict[str, Any]:
    """The resource as _summary / _elements ask (unchanged when neither is given)."""
    type_name = str(resource.get("resourceType"))
    if summary == "true":
        keep = set(_summary_of(type_name)) | set(_mandatory_of(type_name))
        trimmed = {k: v for k, v in resource.items() if k in ALWAYS or _matches(k, keep)}
    elif summary == "text":
        keep = {"text", *_mandatory_of(type_name)}
        trimmed = {k: v for k, v in resource.items() if k in ALWAYS or _matches(k, keep)}
    elif summary == "data":
        trimmed = {k: v for k, v in resource.items() if k != "text"}
    elif elements:
        keep = {*elements, *_mandatory_of(type_name)}
        trimmed = {k: v for k, v in resource.items() if k in ALWAYS or _matches(k, keep)}
    else:
        return resource
    return _tagged(trimmed)


def shaped(resource: dict[str, Any], shaping: Shaping) -> dict[str, Any]:
    """The resource as a Shaping asks."""
    return shape(resource, shaping.summary, shaping.elements)
