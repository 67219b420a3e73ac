"""SearchParameter FHIRPath expressions compiled once (fhirpathpy, R4 model) into fast evaluators.

Terms of the simple shapes most parameters use are evaluated by `fastpath` (same nodes, a
fraction of the time); fhirpathpy evaluates the others, and any term the fast path gives up on.

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

from fhir_server.search import fastpath
from fhir_server.search.fastpath import FastEval, Node
from fhir_server.spec import union_terms

R4_MODEL: dict[str, Any] = models["r4"]
_OPTIONS = {"returnRawData": True}
_ROOTS = ("Resource", "DomainResource")
_AS = re.compile(r"^\((.+) as (\w+)\)$")
_RESOLVE_IS = re.compile(r"\.where\(resolve\(\) is (\w+)\)")
_HAS_EXTENSION = re.compile(r"hasExtension\(('[^']*')\)")
_FIRST_ELEMENT = re.compile(r"^([a-z][A-Za-z0-9]*)")


@dataclass(frozen=True)
class Term:
    """One union term of an expression: its evaluators, a reference type filter, a presence gate."""

    fhirpath: Callable[..., list[Any]]  # fhirpathpy's evaluator (the reference and the fallback)
    ref_type: str | None
    element: str | None  # the top-level JSON element the term reads (None: always evaluate)
    fast: FastEval | None = None  # the fastpath evaluator, when the term's shape allows one

    def evaluate(self, resource: Mapping[str, Any]) -> list[Node]:
        """The term's nodes on a resource (fast path when it applies)."""
        if self.fast is not None and fastpath.ENABLED:
            try:
                return self.fast(resource)
            except Exception:  # noqa: BLE001 - Unsupported or odd data: fhirpathpy decides
                pass
        return nodes(self.fhirpath(resource))


@dataclass(frozen=True)
class Relative:
    """A compiled composite component expression, evaluated on a node of the composite."""

    fhirpath: Callable[..., list[Any]]
    fast: FastEval | None = None

    def __call__(self, node: Node) -> list[Node]:
        """The expression's nodes on one (type, data) node (fast path when it applies)."""
        if self.fast is not None and fastpath.ENABLED:
            try:
                return self.fast(node)
            except Exception:  # noqa: BLE001 - as in Term.evaluate
                pass
        return nodes(self.fhirpath(ResourceNode.create_node(node[1], node[0])))


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
        terms.append(Term(evaluator, ref_type, _element_of(text, type_name),
                          fastpath.compile_term(text)))
    return tuple(terms)


@cache
def compile_relative(expression: str) -> Relative:
    """Compile a composite component expression (evaluated on a node of the composite)."""
    texts = [rewrite(term, "")[0] for term in union_terms(expression)]
    evaluator = fhirpath_compile(" | ".join(texts), model=R4_MODEL, options=_OPTIONS)
    # a union also removes duplicates: only single terms take the fast path
    return Relative(evaluator, fastpath.compile_relative_term(texts[0]) if len(texts) == 1
                    else None)


def has_element(resource: Mapping[str, Any], element: str) -> bool:
    """True when the resource has the element (or a choice variant such as valueQuantity)."""
    if element in resource:
        return True
    size = len(element)
    for key in resource:
        if key.startswith(element) and len(key) > size and key[size].isupper():
            return True
    return False


def nodes(results: list[Any]) -> list[Node]:
    """Turn fhirpathpy results into (type, data) pairs."""
    found: list[Node] = []
    for item in results:
        if isinstance(item, ResourceNode):
            found.append((fastpath.type_of(item.path), item.data))
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
            results = term.evaluate(resource)
        except Exception:  # noqa: BLE001 - odd data must never break a write
            continue
        if term.ref_type is not None:
            results = [node for node in results if reference_type(node[1]) == term.ref_type]
        found.extend(results)
    return found


def evaluate_on(node: Node, evaluator: Callable[[Node], list[Node]]) -> list[Node]:
    """Evaluate a relative expression on one node (typed by its FHIR type when known)."""
    try:
        return evaluator(node)
    except Exception:  # noqa: BLE001
        return []
