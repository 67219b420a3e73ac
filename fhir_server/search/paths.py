"""SearchParameter FHIRPath expressions compiled once (fhirpathpy, R4 model) into fast evaluators.

The official expressions use a few things fhirpathpy cannot run as written, rewritten here:
`Resource.x` roots (evaluated on the concrete type), `(x as T)` on collections (-> `x.ofType(T)`),
`hasExtension(u)` (-> `extension(u).exists()`) and `.where(resolve() is T)`, which needs no
resolution at all: the reference itself says its type, so it becomes a filter on the results.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from fhirpathpy import compile as fhirpath_compile
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models

from fhir_server.spec import union_terms

R4_MODEL: dict[str, Any] = models["r4"]
_OPTIONS = {"returnRawData": True}
_ROOTS = ("Resource", "DomainResource")
_AS = re.compile(r"^\((.+) as (\w+)\)$")
_RESOLVE_IS = re.compile(r"\.where\(resolve\(\) is (\w+)\)")
_HAS_EXTENSION = re.compile(r"hasExtension\(('[^']*')\)")
_FIRST_ELEMENT = re.compile(r"^([a-z][A-Za-z0-9]*)")

Node = tuple[str | None, Any]  # (FHIR type name when known, JSON data)


@dataclass(frozen=True)
class Term:
    """One union term of an expression: its evaluator, a reference type filter, a presence gate."""

    evaluate: Callable[..., list[Any]]
    ref_type: str | None
    element: str | None  # the top-level JSON element the term reads (None: always evaluate)


def rewrite(term: str, type_name: str) -> tuple[str, str | None]:
    """Make one term runnable by fhirpathpy; returns it and the `resolve() is T` type, if any."""
    match = _AS.match(term)
    if match:
        term = f"{match.group(1)}.ofType({match.group(2)})"
    for root in _ROOTS:
        if term.startswith(root + "."):
            term = type_name + term[len(root):]
    ref_type = None
    found = _RESOLVE_IS.search(term)
    if found:
        ref_type = found.group(1)
        term = _RESOLVE_IS.sub("", term)
    term = _HAS_EXTENSION.sub(r"extension(\1).exists()", term)
    return term, ref_type


def _element_of(term: str, type_name: str) -> str | None:
    """The first element name after the type root, if the term starts with a plain path."""
    if not term.startswith(type_name + "."):
        return None
    match = _FIRST_ELEMENT.match(term[len(type_name) + 1:])
    return match.group(1) if match else None


@cache
def compile_expression(expression: str, type_name: str) -> tuple[Term, ...]:
    """Compile a (narrowed) SearchParameter expression into terms (ValueError when unusable)."""
    terms = []
    for raw in union_terms(expression):
        text, ref_type = rewrite(raw, type_name)
        try:
            evaluator = fhirpath_compile(text, model=R4_MODEL, options=_OPTIONS)
        except Exception as exc:  # noqa: BLE001 - the parser raises assorted exceptions
            raise ValueError(f"cannot compile {raw!r}: {exc}") from exc
        terms.append(Term(evaluator, ref_type, _element_of(text, type_name)))
    return tuple(terms)


@cache
def compile_relative(expression: str) -> Callable[..., list[Any]]:
    """Compile a composite component expression (evaluated on a node of the composite)."""
    text = " | ".join(rewrite(term, "")[0] for term in union_terms(expression))
    return fhirpath_compile(text, model=R4_MODEL, options=_OPTIONS)


def has_element(resource: Mapping[str, Any], element: str) -> bool:
    """True when the resource has the element (or a choice variant such as valueQuantity)."""
    if element in resource:
        return True
    size = len(element)
    return any(key.startswith(element) and len(key) > size and key[size].isupper()
               for key in resource)


def nodes(results: list[Any]) -> list[Node]:
    """Turn fhirpathpy results into (type, data) pairs."""
    found: list[Node] = []
    for item in results:
        if isinstance(item, ResourceNode):
            path = item.path if isinstance(item.path, str) and "." not in item.path else None
            if path is not None and path.startswith("System."):
                path = path[7:].lower()
            found.append((path, item.data))
        else:
            found.append((None, item))
    return found


def reference_type(data: Any) -> str | None:
    """The resource type a Reference points to, read from Reference.type or its URL."""
    if not isinstance(data, Mapping):
        return None
    if isinstance(data.get("type"), str):
        return str(data["type"])
    reference = data.get("reference")
    if not isinstance(reference, str):
        return None
    parts = reference.split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    return parts[-2] if len(parts) >= 2 else None


def evaluate_terms(terms: tuple[Term, ...], resource: Mapping[str, Any]) -> list[Node]:
    """Evaluate every term on the resource, keeping only references of the `resolve() is` type."""
    found: list[Node] = []
    for term in terms:
        if term.element is not None and not has_element(resource, term.element):
            continue
        try:
            results = nodes(term.evaluate(resource))
        except Exception:  # noqa: BLE001 - odd data must never break a write
            continue
        if term.ref_type is not None:
            results = [node for node in results if reference_type(node[1]) == term.ref_type]
        found.extend(results)
    return found


def evaluate_on(node: Node, evaluator: Callable[..., list[Any]]) -> list[Node]:
    """Evaluate a relative expression on one node (typed by its FHIR type when known)."""
    type_name, data = node
    try:
        return nodes(evaluator(ResourceNode.create_node(data, type_name)))
    except Exception:  # noqa: BLE001
        return []
