"""Per-type lookups compiled once from spec/bindings.json for the structural checker."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from fhir_server import spec

CODED_TYPES = frozenset({"Coding", "CodeableConcept"})


@dataclass(eq=False, slots=True)
class PropertyRule:
    """What the checker knows about one JSON property of a type key."""

    type_key: str
    children: dict[str, PropertyRule] | None = None  # the rules of type_key, linked after build
    value_set: str | None = None
    codes: frozenset[str] | None = None  # every allowed code (any system) of a required binding
    codes_by_system: dict[str, frozenset[str]] | None = None
    targets: frozenset[str] | None = None  # allowed Reference targets; None: any resource
    is_reference: bool = False
    is_resource: bool = False
    is_coded: bool = False  # a Coding or CodeableConcept with a required binding


@dataclass(frozen=True)
class Schema:
    """Rules by type key, plus the names every resource and reference is checked against."""

    rules_by_type: dict[str, dict[str, PropertyRule]]
    resource_types: frozenset[str]
    extension_rules: dict[str, PropertyRule]
    element_rules: dict[str, PropertyRule]


@cache
def load_schema() -> Schema:
    """Compile bindings.json into linked PropertyRules (once per process)."""
    rules_by_type: dict[str, dict[str, PropertyRule]] = {}
    for type_key in spec.binding_type_keys():
        rules_by_type[type_key] = {
            name: _rule_of(element) for name, element in spec.bindings(type_key).items()
        }
    for rules in rules_by_type.values():
        for rule in rules.values():
            rule.children = rules_by_type.get(rule.type_key)
    return Schema(
        rules_by_type=rules_by_type,
        resource_types=spec.resource_type_names(),
        extension_rules=rules_by_type["Extension"],
        element_rules=rules_by_type["Element"],
    )


def _rule_of(element: spec.ElementSpec) -> PropertyRule:
    """The rule for one ElementSpec (children linked later)."""
    type_key = element["type"]
    rule = PropertyRule(type_key=type_key, is_reference=type_key == "Reference",
                        is_resource=type_key == "Resource")
    if "targets" in element:
        rule.targets = frozenset(element["targets"])
    value_set = element.get("valueSet")
    if value_set is not None:
        by_system = spec.value_set_codes(value_set)
        rule.value_set = value_set
        rule.codes_by_system = {system: frozenset(codes) for system, codes in by_system.items()}
        rule.codes = frozenset(code for codes in by_system.values() for code in codes)
        rule.is_coded = type_key in CODED_TYPES
    return rule
