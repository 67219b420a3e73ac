"""The fast path of validation: is a resource certainly one the reference path accepts?

`certainly_valid(data)` walks the JSON once against rules compiled from spec/model_rules.json
(generated from the fhir.resources R4B models: element names with choice [x] types and
`_primitive` siblings, JSON types, arrays, required elements, choice groups, primitive
patterns and ranges, contained and other Resource-typed elements). It answers True only when
both checks it replaces surely pass: json_types.check_json_types (JSON types, control
characters, string length, narrative XHTML, nesting depth) and fhir.resources'
`model_validate`. Anything it does not recognise (an unknown or null element, an empty value,
a leap second, a uuid, a non-ASCII code...) answers False, "not sure", and the caller runs the
reference unchanged, so every rejection keeps the reference's messages and paths.
tests/validation/test_fast_check.py proves it differentially on the official examples,
Synthea, the bad-input corpus and mutations of them.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from fhir_server.validation.fast_rules import (
    ANY_RESOURCE,
    CompiledRules,
    ModelRules,
    compile_rules,
    model_rules_data,
)
from fhir_server.validation.json_types import MAX_DEPTH


def _object(node: dict[str, Any], rules: ModelRules, depth: int) -> bool:
    """True when every property of node (an object at depth) is one rules certainly accepts,
    and none is missing; json_types' depth rule: objects and arrays at most MAX_DEPTH deep."""
    if depth > MAX_DEPTH:
        return False
    fields = rules.fields
    for key, value in node.items():
        rule = fields.get(key)
        if rule is None:
            return False
        check, repeats, child = rule
        if repeats:
            if type(value) is not list or not value or depth >= MAX_DEPTH:
                return False
            if child is None:
                for item in value:
                    if not check(item):
                        return False
            else:
                for item in value:
                    if not _child(item, child, depth + 2):
                        return False
        elif child is None:
            if not check(value):
                return False
        elif not _child(value, child, depth + 1):
            return False
    if rules.required and not node.keys() >= rules.required:
        return False
    if rules.choice_names and not rules.choice_names.isdisjoint(node):
        for group in rules.choices:
            if len(group.intersection(node)) > 1:
                return False
    for group in rules.required_choices:
        if len(group.intersection(node)) != 1:
            return False
    return not rules.any_of or not rules.any_of.isdisjoint(node)


def _child(value: Any, child: ModelRules | str, depth: int) -> bool:
    """A (non-empty) object of a model, or a resource typed by its resourceType."""
    if type(value) is not dict or not value:
        return False
    if child is ANY_RESOURCE:
        kind = value.get("resourceType")
        rules = _compiled().resources.get(kind) if type(kind) is str else None
        return rules is not None and _object(value, rules, depth)
    return _object(value, child, depth)  # type: ignore[arg-type]


@cache
def _compiled() -> CompiledRules:
    """The rules of every model, compiled once per process."""
    return compile_rules(model_rules_data())


def certainly_valid(data: dict[str, Any], type_name: str) -> bool:
    """True when the JSON-type checks and fhir.resources' model of type_name surely accept
    data (False: not sure)."""
    rules = _compiled().resources.get(type_name)
    if rules is None or data.get("resourceType") != type_name:
        return False
    try:
        return _object(data, rules, 1)
    except RecursionError:  # deeper than any resource: let the reference answer
        return False
