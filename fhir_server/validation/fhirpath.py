"""FHIRPath for invariants: a fast subset compiled to Python closures over the JSON, with
fhirpathpy as the fallback for everything else (http://hl7.org/fhirpath/N1/).

`compile_fhirpath(expression)` parses once (cached). The fast path covers member navigation
(choice elements `value` -> `valueCoding` included), literals, `$this`, `%resource`,
the boolean, equality, union and membership operators, and the functions in `FUNCTIONS`.
Expressions outside it, and evaluations it cannot decide (e.g. `and` on a collection of several
items), go to fhirpathpy with the r4 model, so results are the same, only slower.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import fhirpathpy
from fhirpathpy.models import models

from fhir_server.validation.fhirpath_functions import (
    FUNCTIONS,
    Env,
    EvaluationError,
    Fn,
    Items,
    child,
    equal,
    logic,
    same,
    truth,
    unique,
)
from fhir_server.validation.fhirpath_parse import Node, Unsupported, parse

_ITERATING = frozenset({"where", "all", "exists", "select"})


def _call(name: str, target: Fn | None, args: list[Fn]) -> Fn:
    if name in _ITERATING:
        if len(args) > 1 or (name != "exists" and len(args) != 1):
            raise Unsupported(f"{name}() with {len(args)} arguments")
        criterion = args[0] if args else None

        def iterate(focus: Items, env: Env) -> Items:
            items = target(focus, env) if target is not None else focus
            if criterion is None:
                return [bool(items)]
            if name == "select":
                return [out for item in items for out in criterion([item], env)]
            hits = [item for item in items if truth(criterion([item], env)) is True]
            if name == "where":
                return hits
            return [len(hits) == len(items)] if name == "all" else [bool(hits)]
        return iterate
    if name not in FUNCTIONS:
        raise Unsupported(f"function {name}()")
    arity, function = FUNCTIONS[name]
    if len(args) != arity:
        raise Unsupported(f"{name}() with {len(args)} arguments")

    def invoke(focus: Items, env: Env) -> Items:
        items = target(focus, env) if target is not None else focus
        return function(items, args, env, focus)
    return invoke


def _compile(node: Node) -> Fn:
    """Turn an AST node into a closure (focus, env) -> collection."""
    kind = node[0]
    if kind == "lit":
        value = node[1]
        return lambda focus, env: value
    if kind == "this":
        return lambda focus, env: focus
    if kind == "var":
        name = node[1]
        if name not in ("resource", "rootResource"):
            raise Unsupported(f"%{name}")
        return lambda focus, env: env[name]
    if kind == "member":
        return _member(node[1], node[2])
    if kind == "call":
        target = _compile(node[1]) if node[1] is not None else None
        return _call(node[2], target, [_compile(arg) for arg in node[3]])
    if kind == "index":
        target, index = _compile(node[1]), _compile(node[2])

        def indexed(focus: Items, env: Env) -> Items:
            position = _truth_int(index(focus, env))
            items = target(focus, env)
            return items[position:position + 1] if 0 <= position < len(items) else []
        return indexed
    folded = _fold(node)
    if folded is not None:
        return lambda focus, env: folded
    return _operator(node[1], _compile(node[2]), _compile(node[3]), node[2], node[3])


def _fold(node: Node) -> Items | None:
    """A union of literals ('a' | 'b' | 'c') as one literal collection (None otherwise)."""
    if node[0] == "lit":
        return list(node[1])
    if node[0] != "op" or node[1] != "|":
        return None
    left, right = _fold(node[2]), _fold(node[3])
    return None if left is None or right is None else unique(left + right)


def _member(target_node: Node | None, name: str) -> Fn:
    """`name` on the focus (a type name there filters by resourceType) or on a target."""
    if target_node is not None:
        target = _compile(target_node)
        return lambda focus, env: child(target(focus, env), name)
    if name[:1].isupper():
        return lambda focus, env: [i for i in focus if isinstance(i, dict)
                                   and i.get("resourceType") == name]
    return lambda focus, env: child(focus, name)


def _truth_int(items: Items) -> int:
    if len(items) == 1 and isinstance(items[0], int) and not isinstance(items[0], bool):
        return items[0]
    raise EvaluationError("an index must be a single integer")


def _short_circuit(op: str, left: Fn, right: Fn) -> Fn:
    """and/or/implies skip the right operand when the left decides (same result)."""
    decided = {"and": (False, [False]), "or": (True, [True]), "implies": (False, [True])}
    stop, result = decided[op]

    def decide(focus: Items, env: Env) -> Items:
        items = left(focus, env)
        first = items[0] if len(items) == 1 and isinstance(items[0], bool) else truth(items)
        if first is stop:
            return result
        return logic(op, first, truth(right(focus, env)))
    return decide


def _equals_literal(left: Fn, literal: Any, left_node: Node) -> Fn:
    """`path = 'literal'`, the commonest comparison, without building collections (and for
    `field = 'text'` on one object, a plain dict lookup)."""
    def equals(focus: Items, env: Env) -> Items:
        items = left(focus, env)
        if not items:
            return []
        return [len(items) == 1 and same(items[0], literal)]
    if not (left_node[0] == "member" and left_node[1] is None and isinstance(literal, str)
            and not left_node[2][:1].isupper()):
        return equals
    name = left_node[2]

    def field_equals(focus: Items, env: Env) -> Items:
        if len(focus) == 1 and isinstance(focus[0], dict):
            value = focus[0].get(name)
            if isinstance(value, str):
                return [value == literal]
        return equals(focus, env)
    return field_equals


def _operator(op: str, left: Fn, right: Fn, left_node: Node, right_node: Node) -> Fn:
    if op in ("and", "or", "implies"):
        return _short_circuit(op, left, right)
    if op == "xor":
        return lambda focus, env: logic(op, truth(left(focus, env)), truth(right(focus, env)))
    if op == "=" and right_node[0] == "lit" and len(right_node[1]) == 1:
        return _equals_literal(left, right_node[1][0], left_node)
    if op == "=":
        return lambda focus, env: equal(left(focus, env), right(focus, env))
    if op == "!=":
        return lambda focus, env: [not r for r in equal(left(focus, env), right(focus, env))]
    if op == "|":
        return lambda focus, env: unique(left(focus, env) + right(focus, env))
    literals = _fold(right_node)
    if op == "in" and literals is not None and all(isinstance(v, str) for v in literals):
        strings = frozenset(literals)

        def among(focus: Items, env: Env) -> Items:
            element = left(focus, env)
            if len(element) > 1:
                raise EvaluationError("'in' needs a single element")
            return [isinstance(element[0], str) and element[0] in strings] if element else []
        return among
    if op in ("in", "contains"):
        def member(focus: Items, env: Env) -> Items:
            element, collection = left(focus, env), right(focus, env)
            if op == "contains":
                element, collection = collection, element
            if not element:
                return []
            if len(element) != 1:
                raise EvaluationError(f"'{op}' needs a single element")
            return [any(same(element[0], item) for item in collection)]
        return member
    raise Unsupported(f"operator {op}")


@dataclass(frozen=True)
class CompiledPath:
    """A compiled expression: `evaluate(context, resource)` gives the result collection."""

    expression: str
    fast: Fn | None

    def evaluate(self, context: Any, resource: dict[str, Any], env: Env | None = None) -> Items:
        """Evaluate on one context item with %resource bound (EvaluationError if it cannot);
        `env` (from environment(resource)) may be shared by the evaluations of one resource."""
        if self.fast is not None:
            try:
                return self.fast([context], env or environment(resource))
            except EvaluationError:
                pass
        try:
            return list(_slow(self.expression)(context, {"resource": resource,
                                                         "rootResource": resource}))
        except Exception as exc:  # noqa: BLE001 - fhirpathpy raises bare Exceptions
            raise EvaluationError(f"{self.expression}: {exc}"[:300]) from None

    def holds(self, context: Any, resource: dict[str, Any], env: Env | None = None) -> bool:
        """True when the expression evaluates to exactly `true` (an invariant holds)."""
        return self.evaluate(context, resource, env) == [True]


def environment(resource: dict[str, Any]) -> Env:
    """The variables of the fast path for one resource (%resource, %rootResource)."""
    return {"resource": [resource], "rootResource": [resource]}


@cache
def _slow(expression: str) -> Callable[..., Any]:
    """fhirpathpy's compiled form (r4 model), made once per expression."""
    return fhirpathpy.compile(expression, models["r4"])


@cache
def compile_fhirpath(expression: str) -> CompiledPath:
    """Compile once: the fast closure when the subset covers it, else fhirpathpy only."""
    try:
        return CompiledPath(expression, _compile(parse(expression)))
    except Unsupported:
        _slow(expression)  # fail now (ValueError etc.) on a malformed expression
        return CompiledPath(expression, None)
