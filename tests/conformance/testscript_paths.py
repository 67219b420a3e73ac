"""Evaluation of TestScript `path`s and `expression`s and of the assert operators (R4
testscript.html, AssertionOperatorType).

`expression` is FHIRPath, run by the server's own engine (fhir_server.validation.fhirpath: a fast
subset with fhirpathpy as fallback). `path` is XPath or JSONPath in R4; the spec's examples use
simple XPaths such as `fhir:Patient/fhir:name/fhir:family/@value` and `Patient/id`, which are
translated step by step to the equivalent FHIRPath (`Patient.name.family`). Paths with
predicates, axes or functions are not translated (Unsupported).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from fhir_server.validation.fhirpath import compile_fhirpath
from tests.conformance.testscript_model import Unsupported

FHIR_NS = "{http://hl7.org/fhir}"


def path_to_fhirpath(path: str) -> str:
    """The FHIRPath of a simple XPath (`fhir:A/fhir:b/@value`) or dotted JSON path (`$.a.b`)."""
    text = path.strip()
    if text.startswith("$."):
        text = text[2:].replace(".", "/")
    steps = [step for step in text.strip("/").split("/") if step]
    names: list[str] = []
    for position, step in enumerate(steps):
        if step == "@value" and position == len(steps) - 1:
            continue
        name = step.removeprefix("fhir:")
        if not name.isidentifier():
            raise Unsupported(f"path step {step!r} of {path!r}")
        names.append(name)
    if not names:
        raise Unsupported(f"empty path {path!r}")
    return ".".join(names)


def evaluate(body: Any, expression: str | None = None, path: str | None = None) -> list[Any]:
    """The result collection of an expression (FHIRPath) or a path on a resource body."""
    if not isinstance(body, dict):
        return []
    text = expression if expression is not None else path_to_fhirpath(path or "")
    return list(compile_fhirpath(text).evaluate(body, body))


def as_text(value: Any) -> str:
    """The string form TestScript compares (`true`/`false` for booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def first_text(values: list[Any]) -> str | None:
    """The string form of the first item of a result collection (None when empty)."""
    return as_text(values[0]) if values else None


def _number(text: str) -> float | None:
    """A number from its string form, or None."""
    try:
        return float(text)
    except ValueError:
        return None


def _ordered(actual: str, expected: str) -> tuple[Any, Any]:
    """Compare as numbers when both are numbers, else as strings."""
    left, right = _number(actual), _number(expected)
    return (left, right) if left is not None and right is not None else (actual, expected)


def compare(operator: str, actual: str | None, expected: str | None) -> bool:
    """The AssertionOperatorType `operator` applied to an actual and an expected value."""
    if operator == "empty":
        return actual in (None, "")
    if operator == "notEmpty":
        return actual not in (None, "")
    if actual is None or expected is None:
        return operator in ("notEquals", "notIn", "notContains") and actual is None
    choices = [choice.strip() for choice in expected.split(",")]
    match operator:
        case "equals":
            return actual == expected
        case "notEquals":
            return actual != expected
        case "in":
            return actual in choices
        case "notIn":
            return actual not in choices
        case "contains":
            return expected in actual
        case "notContains":
            return expected not in actual
        case "greaterThan" | "lessThan":
            left, right = _ordered(actual, expected)
            return bool(left > right) if operator == "greaterThan" else bool(left < right)
    raise Unsupported(f"operator {operator!r}")


def contains_minimum(actual: Any, minimum: Any) -> bool:
    """True when `actual` holds every element and value of `minimum` (minimumId)."""
    if isinstance(minimum, dict):
        return isinstance(actual, dict) and all(
            key in actual and contains_minimum(actual[key], value)
            for key, value in minimum.items())
    if isinstance(minimum, list):
        return isinstance(actual, list) and all(
            any(contains_minimum(item, wanted) for item in actual) for wanted in minimum)
    return bool(actual == minimum)


def xml_to_json(content: bytes) -> dict[str, Any]:
    """A FHIR XML resource as JSON-like data for FHIRPath (values stay strings; an element that
    repeats becomes a list): enough for the path asserts, not for profile validation."""
    root = etree.fromstring(content, parser=etree.XMLParser(resolve_entities=False,
                                                            no_network=True))
    return {"resourceType": etree.QName(root).localname, **_xml_children(root)}


def _xml_children(element: Any) -> dict[str, Any]:
    """The children of one XML element as a JSON object."""
    out: dict[str, Any] = {}
    for child in element:
        if not isinstance(child.tag, str) or not child.tag.startswith(FHIR_NS):
            continue
        name = child.tag[len(FHIR_NS):]
        value: Any = child.get("value") if child.get("value") is not None else _xml_children(child)
        if name in out:
            existing = out[name]
            out[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            out[name] = value
    return out
