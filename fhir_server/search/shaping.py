"""_summary and _elements (search.html#summary, #elements): trim returned resources.

A trimmed resource is marked with the SUBSETTED tag, as the spec requires.
"""

from __future__ import annotations

from typing import Any

from fhir_server.search.summary_data import MANDATORY, SUMMARY

SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
             "code": "SUBSETTED", "display": "Resource encoded in summary mode"}
ALWAYS = ("resourceType", "id", "meta")


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
        keep = set(SUMMARY.get(type_name, ())) | set(MANDATORY.get(type_name, ()))
        trimmed = {k: v for k, v in resource.items() if k in ALWAYS or _matches(k, keep)}
    elif summary == "text":
        keep = {"text", *MANDATORY.get(type_name, ())}
        trimmed = {k: v for k, v in resource.items() if k in ALWAYS or _matches(k, keep)}
    elif summary == "data":
        trimmed = {k: v for k, v in resource.items() if k != "text"}
    elif elements:
        keep = {*elements, *MANDATORY.get(type_name, ())}
        trimmed = {k: v for k, v in resource.items() if k in ALWAYS or _matches(k, keep)}
    else:
        return resource
    return _tagged(trimmed)
