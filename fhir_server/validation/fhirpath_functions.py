"""The collection semantics and functions of the fast FHIRPath path (FHIRPath N1 sections 5-6):
navigation over JSON, Boolean singleton evaluation, equality, three-valued logic, and the
functions the invariants use."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

Items = list[Any]
Env = dict[str, Any]
Fn = Callable[[Items, Env], Items]
_TYPE_SUFFIXES = frozenset((
    "Base64Binary", "Boolean", "Canonical", "Code", "Date", "DateTime", "Decimal", "Id",
    "Instant", "Integer", "Markdown", "Oid", "PositiveInt", "String", "Time", "UnsignedInt",
    "Uri", "Url", "Uuid", "Address", "Age", "Annotation", "Attachment", "CodeableConcept",
    "Coding", "ContactPoint", "Count", "Distance", "Duration", "HumanName", "Identifier", "Money",
    "Period", "Quantity", "Range", "Ratio", "Reference", "SampledData", "Signature", "Timing",
    "ContactDetail", "Contributor", "DataRequirement", "Expression", "ParameterDefinition",
    "RelatedArtifact", "TriggerDefinition", "UsageContext", "Dosage", "Meta"))


class EvaluationError(Exception):
    """The fast path met a case it does not decide; the fallback evaluates instead."""


def _choice(item: dict[str, Any], name: str) -> Any:
    """The value of choice element `name` ([x]) in an object: `value` -> `valueCoding`."""
    size = len(name)
    return next((v for k, v in item.items() if k.startswith(name)
                 and k[size:] in _TYPE_SUFFIXES), None)


def child(items: Items, name: str) -> Items:
    """Navigate to `name` in every item (flattening arrays, resolving choice elements)."""
    if len(items) == 1 and isinstance(items[0], dict):  # the common case, kept short
        value = items[0].get(name)
        if value is None:
            value = _choice(items[0], name)
        if value is None:
            return []
        if isinstance(value, list):
            return [v for v in value if v is not None] if None in value else list(value)
        return [value]
    out: Items = []
    for item in items:
        if not isinstance(item, dict):
            continue
        value = item.get(name)
        if value is None:
            value = _choice(item, name)
            if value is None:
                continue
        if isinstance(value, list):
            out.extend(v for v in value if v is not None)
        else:
            out.append(value)
    return out


def truth(items: Items) -> bool | None:
    """Singleton evaluation as Boolean (FHIRPath 4.5): empty -> None (unknown)."""
    if not items:
        return None
    if len(items) == 1:
        value = items[0]
        return value if isinstance(value, bool) else True
    raise EvaluationError("a collection of several items used as a Boolean")


def string(items: Items) -> str | None:
    """The single string of a collection (None when empty)."""
    if not items:
        return None
    if len(items) == 1 and isinstance(items[0], str):
        return items[0]
    raise EvaluationError("expected a single string")


def equal(left: Items, right: Items) -> Items:
    """FHIRPath `=` on collections (6.1.1): empty when either side is empty."""
    if not left or not right:
        return []
    if len(left) != len(right):
        return [False]
    return [all(same(a, b) for a, b in zip(left, right, strict=True))]


def same(a: Any, b: Any) -> bool:
    """Equality of two items (a Boolean never equals a number)."""
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return bool(a == b)


def logic(op: str, left: bool | None, right: bool | None) -> Items:
    """Three-valued and/or/xor/implies (FHIRPath 6.5)."""
    result: bool | None
    if op == "and":
        result = False if False in (left, right) else (None if None in (left, right) else True)
    elif op == "or":
        result = True if True in (left, right) else (None if None in (left, right) else False)
    elif op == "xor":
        result = None if None in (left, right) else left != right
    else:  # implies
        if left is False or right is True:
            result = True
        elif left is None:
            result = None
        else:
            result = right
    return [] if result is None else [result]


def unique(items: Items) -> Items:
    """The items without repeats, in order (the `|` union)."""
    out: Items = []
    for item in items:
        if not any(same(item, seen) for seen in out):
            out.append(item)
    return out


def _arg_value(args: list[Fn], index: int, env: Env, items: Items) -> Any:
    values = args[index](items, env)
    if len(values) != 1:
        raise EvaluationError("a function argument must be a single value")
    return values[0]


def _matches(items: Items, args: list[Fn], env: Env, focus: Items) -> Items:
    text = string(items)
    pattern = _arg_value(args, 0, env, focus)
    if text is None:
        return []
    return [_regex(pattern).search(text) is not None]


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.DOTALL)


def _extension(items: Items, args: list[Fn], env: Env, focus: Items) -> Items:
    url = _arg_value(args, 0, env, focus)
    return [ext for ext in child(items, "extension") if isinstance(ext, dict)
            and ext.get("url") == url]


def _string_test(test: Callable[[str, str], bool]) -> Callable[..., Items]:
    def run(items: Items, args: list[Fn], env: Env, focus: Items) -> Items:
        text = string(items)
        other = _arg_value(args, 0, env, focus)
        return [] if text is None else [test(text, str(other))]
    return run


# name -> (arity, function(items, args, env, focus) -> items); `where`, `all`, `exists` and
# `select` take an expression argument evaluated per item (handled in _call).
FUNCTIONS: dict[str, tuple[int, Callable[..., Items]]] = {
    "empty": (0, lambda items, args, env, focus: [not items]),
    "count": (0, lambda items, args, env, focus: [len(items)]),
    "first": (0, lambda items, args, env, focus: items[:1]),
    "last": (0, lambda items, args, env, focus: items[-1:]),
    "distinct": (0, lambda items, args, env, focus: unique(items)),
    "isDistinct": (0, lambda items, args, env, focus: [len(unique(items)) == len(items)]),
    "hasValue": (0, lambda items, args, env, focus: [len(items) == 1 and not isinstance(
        items[0], dict | list)]),
    "length": (0, lambda items, args, env, focus: [] if (s := string(items)) is None
               else [len(s)]),
    "not": (0, lambda items, args, env, focus: [] if (t := truth(items)) is None else [not t]),
    "matches": (1, _matches),
    "startsWith": (1, _string_test(str.startswith)),
    "endsWith": (1, _string_test(str.endswith)),
    "contains": (1, _string_test(lambda text, part: part in text)),
    "extension": (1, _extension),
}
