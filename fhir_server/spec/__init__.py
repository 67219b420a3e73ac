"""FHIR R4 (4.0.1) data files made by make_spec.py, with small cached loaders."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, TypedDict

SPEC_DIR = Path(__file__).resolve().parent
_ANY_BASE = ("Resource", "DomainResource")


class ElementSpec(TypedDict, total=False):
    """One JSON property of a type key in bindings.json."""

    type: str  # child type key (data type, backbone path), "Resource", or a primitive type
    valueSet: str  # canonical URL of a required binding whose codes are in value_set_codes
    targets: list[str]  # allowed Reference targets; absent: any resource type


@cache
def _load(name: str) -> Any:
    """Parse one data file of this folder (once)."""
    return json.loads((SPEC_DIR / name).read_bytes())


def model_rules() -> dict[str, Any]:
    """model_rules.json: the fhir.resources models' fields, required elements, choices and
    primitive rules (make_model_rules.py; shared: don't mutate)."""
    rules: dict[str, Any] = _load("model_rules.json")
    return rules


def search_parameters() -> list[dict[str, Any]]:
    """The R4 SearchParameters whose base is one of our types or Resource (shared: don't mutate)."""
    parameters: list[dict[str, Any]] = _load("search_parameters.json")
    return parameters


def search_parameters_for(type_name: str) -> dict[str, dict[str, Any]]:
    """code -> SearchParameter for one resource type, its expression narrowed to that type."""
    return dict(_search_parameters_for(type_name))


@cache
def _search_parameters_for(type_name: str) -> tuple[tuple[str, dict[str, Any]], ...]:
    """The cached body of search_parameters_for."""
    found: dict[str, dict[str, Any]] = {}
    for parameter in search_parameters():
        bases = parameter["base"]
        if type_name in bases or any(base in bases for base in _ANY_BASE):
            narrowed = dict(parameter)
            if "expression" in parameter:
                narrowed["expression"] = expression_for_type(parameter["expression"], type_name)
            found[parameter["code"]] = narrowed
    return tuple(sorted(found.items()))


def expression_for_type(expression: str, type_name: str) -> str:
    """Keep the terms of a FHIRPath union ('A.x | B.y') that start at type_name (or Resource)."""
    terms = union_terms(expression)
    roots = (type_name, *_ANY_BASE)
    kept = [term for term in terms if term.lstrip("(").split(".", 1)[0] in roots]
    return " | ".join(kept) if kept else expression


def split_top_level(expression: str, separator: str) -> list[str]:
    """Split a FHIRPath expression at a one-character separator outside brackets and quotes."""
    parts, depth, quoted, start = [], 0, False, 0
    for index, char in enumerate(expression):
        if char == "'":
            quoted = not quoted
        elif not quoted and char in "([":
            depth += 1
        elif not quoted and char in ")]":
            depth -= 1
        elif not quoted and depth == 0 and char == separator:
            parts.append(expression[start:index].strip())
            start = index + 1
    parts.append(expression[start:].strip())
    return parts


def union_terms(expression: str) -> list[str]:
    """Split a FHIRPath expression at its top-level '|' (outside brackets and quotes)."""
    return [term for term in split_top_level(expression, "|") if term]


def compartments() -> dict[str, dict[str, list[str]]]:
    """Compartment type (Patient, Encounter, RelatedPerson, Practitioner, Device) -> our types
    in it -> their linking params, '{def}' for the compartment's own resource (don't mutate)."""
    found: dict[str, dict[str, list[str]]] = _load("compartments.json")
    return found


def patient_compartment() -> dict[str, list[str]]:
    """Our types in the Patient compartment -> their linking params (shared: don't mutate)."""
    return compartments()["Patient"]


class TypeSpec(TypedDict):
    """One concrete R4 resource type in resource_types.json."""

    category: str  # structuredefinition-category, e.g. "Clinical.Summary"
    security: str  # structuredefinition-security-category: anonymous, business, patient...


def type_specs() -> dict[str, TypeSpec]:
    """Every concrete R4 resource type -> its categories (shared: don't mutate)."""
    types: dict[str, TypeSpec] = _load("resource_types.json")["types"]
    return types


def not_stored_types() -> dict[str, str]:
    """The R4 resource types the server does not store -> why."""
    reasons: dict[str, str] = _load("resource_types.json")["notStored"]
    return reasons


def bindings(type_key: str) -> dict[str, ElementSpec]:
    """JSON property -> ElementSpec of a type key ('Patient', 'HumanName', 'Patient.contact')."""
    types: dict[str, dict[str, ElementSpec]] = _load("bindings.json")["types"]
    return types[type_key]


def binding_type_keys() -> list[str]:
    """Every type key described in bindings.json."""
    return sorted(_load("bindings.json")["types"])


def value_set_codes(url: str) -> dict[str, list[str]]:
    """system -> allowed codes of a required value set named in bindings.json."""
    value_sets: dict[str, dict[str, list[str]]] = _load("bindings.json")["valueSets"]
    return value_sets[url]


def resource_type_names() -> frozenset[str]:
    """Every concrete FHIR R4 resource type name."""
    return frozenset(_load("bindings.json")["resourceTypes"])
