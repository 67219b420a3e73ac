"""The search parameters of every stored type, built from the official R4 SearchParameters
(and this server's own, search/custom.py).

The single source for extraction, query compilation and the CapabilityStatement.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from fhir_server.resource_types import RESOURCE_TYPES
from fhir_server.search.custom import custom_parameters_for
from fhir_server.search.paths import Term, compile_expression
from fhir_server.spec import bindings, search_parameters_for, union_terms, value_set_codes

log = logging.getLogger(__name__)

KINDS = ("token", "string", "date", "reference", "number", "quantity", "uri", "composite")
# Parameters every type answers without an index entry (the store matches the id and the
# lastUpdated instant themselves).
DIRECT = frozenset({"_id", "_lastUpdated"})
MODIFIERS: dict[str, frozenset[str]] = {
    "token": frozenset({"missing", "not", "text", "of-type"}),
    "string": frozenset({"missing", "exact", "contains"}),
    "date": frozenset({"missing"}),
    "reference": frozenset({"missing", "identifier"}),  # plus :[type]
    "number": frozenset({"missing"}),
    "quantity": frozenset({"missing"}),
    "uri": frozenset({"missing", "below", "above", "contains"}),
    "composite": frozenset({"missing"}),
}
KNOWN_MODIFIERS = frozenset({"missing", "exact", "contains", "text", "not", "above", "below",
                             "in", "not-in", "of-type", "identifier", "iterate",
                             "code-text", "text-advanced"})


@dataclass(frozen=True)
class Component:
    """One part of a composite parameter: the parameter it borrows its type from, a path."""

    kind: str
    expression: str


@dataclass(frozen=True)
class SearchParam:
    """One search parameter as it applies to one resource type."""

    type_name: str
    code: str
    kind: str
    url: str
    expression: str | None
    targets: tuple[str, ...] = ()
    terms: tuple[Term, ...] = ()
    components: tuple[Component, ...] = ()
    code_systems: Mapping[str, str] = field(default_factory=dict)
    reason: str | None = None  # why it is not supported, when it is not

    @property
    def supported(self) -> bool:
        """True when searches on this parameter are executed."""
        return self.reason is None

    @property
    def documentation(self) -> str:
        """A one-line description for the CapabilityStatement."""
        if self.code in DIRECT:
            return f"{self.kind} search on {self.expression} (read directly, not indexed)"
        return f"{self.kind} search on {self.expression}"


def _code_systems(expression: str, type_name: str) -> dict[str, str]:
    """code -> system for a plain path ending on a code with a required binding."""
    terms = union_terms(expression)
    if len(terms) != 1 or not terms[0].startswith(type_name + "."):
        return {}
    key, spec = type_name, None
    try:
        for segment in terms[0].split(".")[1:]:
            if not segment.isidentifier():
                return {}
            spec = bindings(key)[segment]
            key = spec.get("type", "")
        if spec is None or spec.get("type") != "code" or "valueSet" not in spec:
            return {}
        systems = value_set_codes(spec["valueSet"])
    except KeyError:
        return {}
    return {code: system for system, codes in systems.items() for code in codes}


def _components(definition: dict[str, Any], by_url: Mapping[str, str]) -> tuple[Component, ...]:
    parts = []
    for part in definition.get("component", []):
        kind = by_url.get(part["definition"])
        if kind is None:
            raise ValueError(f"unknown component {part['definition']}")
        parts.append(Component(kind, part["expression"]))
    return tuple(parts)


def _build(type_name: str, code: str, definition: dict[str, Any],
           by_url: Mapping[str, str]) -> SearchParam:
    kind = definition["type"]
    base = SearchParam(type_name, code, kind, definition["url"], definition.get("expression"),
                       tuple(definition.get("target", ())))
    if code in DIRECT:
        return base
    reason = None
    terms: tuple[Term, ...] = ()
    components: tuple[Component, ...] = ()
    if kind not in KINDS:
        reason = f"parameters of type {kind} are not supported"
    elif not base.expression:
        reason = "the parameter has no FHIRPath expression"
    else:
        try:
            terms = compile_expression(base.expression, type_name)
            components = _components(definition, by_url) if kind == "composite" else ()
        except ValueError as exc:
            log.warning("search parameter %s.%s not indexed: %s", type_name, code, exc)
            reason = f"its expression cannot be evaluated ({exc})"
    systems = _code_systems(base.expression or "", type_name) if kind == "token" else {}
    return SearchParam(type_name, code, kind, base.url, base.expression, base.targets, terms,
                       components, systems, reason)


@cache
def params_for(type_name: str) -> dict[str, SearchParam]:
    """code -> SearchParam for one stored type (supported or not)."""
    definitions = {**search_parameters_for(type_name), **custom_parameters_for(type_name)}
    by_url = {d["url"]: d["type"] for d in definitions.values()}
    return {code: _build(type_name, code, definition, by_url)
            for code, definition in sorted(definitions.items())}


def lookup(type_name: str, code: str) -> SearchParam | None:
    """The parameter `code` of a type, or None when the type has no such parameter."""
    return params_for(type_name).get(code)


def indexed_params(type_name: str) -> list[SearchParam]:
    """The parameters whose values are extracted at write time for this type."""
    return [p for p in params_for(type_name).values() if p.supported and p.code not in DIRECT]


def supported_params(type_name: str) -> list[SearchParam]:
    """The parameters this server executes for a type (for the CapabilityStatement)."""
    return [p for p in params_for(type_name).values() if p.supported]


def date_params(type_name: str) -> list[str]:
    """Codes of the indexed date parameters of a type (they get their own range indexes)."""
    return [p.code for p in indexed_params(type_name) if p.kind == "date"]


def warm_up() -> None:
    """Compile every type's parameters now (at start-up) rather than on the first write."""
    for type_name in RESOURCE_TYPES:
        params_for(type_name)


def capability_search_params(type_name: str) -> list[dict[str, str]]:
    """CapabilityStatement.rest.resource.searchParam entries for a type."""
    return [{"name": p.code, "definition": p.url, "type": p.kind,
             "documentation": p.documentation} for p in supported_params(type_name)]
