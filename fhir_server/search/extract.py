"""Search values extracted at write time: per indexed parameter of a resource, its values
(token/reference/uri keys, {v} strings, {lo, hi} dates and numbers, {lo, hi, u} quantities,
{c0, c1} composites), index keys, display texts, exact strings, Reference.identifier keys and
sort keys (search/values.py). The store lays them out beside the resource
(storage/query/index_document.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from fhir_server.search.normalize import (
    CACHE_SIZE,
    MAX_INDEXED_STRING,
    index_keys,
    token_key_tuple,
)
from fhir_server.search.paths import Node, compile_relative, evaluate_on, evaluate_terms
from fhir_server.search.registry import SearchParam, indexed_params, lookup
from fhir_server.search.values import BUILDERS, Values

COMPOSITE_SEP = "\x1a"
MAX_VALUES = 5000  # values kept per parameter and resource


class Planned(NamedTuple):
    """An indexed parameter of a type, with what its extraction needs worked out once."""

    param: SearchParam
    code: str
    kind: str
    elements: frozenset[str] | None  # top-level elements its terms read (None: any resource)


@lru_cache(maxsize=1024)
def plan(type_name: str) -> tuple[Planned, ...]:
    """The indexed parameters of a type, ready for extraction."""
    return tuple(Planned(param, param.code, param.kind,
                         None if any(t.element is None for t in param.terms)
                         else frozenset(t.element for t in param.terms if t.element))
                 for param in indexed_params(type_name))


def element_names(key: str) -> tuple[str, ...]:
    """The element names a JSON key stands for: itself and, for valueQuantity, `value`."""
    return (key, *(key[:end] for end in range(1, len(key)) if key[end].isupper()))


def present_elements(resource: Mapping[str, Any]) -> frozenset[str]:
    """The element names present in a resource (what `paths.has_element` answers True for)."""
    return _present(tuple(resource))


@lru_cache(maxsize=1024)
def _present(keys: tuple[str, ...]) -> frozenset[str]:
    """present_elements, memoised by the resource's keys (resources of a type share them)."""
    return frozenset(name for key in keys for name in element_names(key))


@lru_cache(maxsize=CACHE_SIZE)
def reference_key(reference: str, base_url: str) -> str | None:
    """A literal reference as stored and searched: 'Type/id' for ours, the URL for others."""
    if not reference or reference.startswith("#"):
        return None
    if base_url and reference.startswith(base_url + "/"):
        reference = reference[len(base_url) + 1:]
    parts = reference.split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        reference = "/".join(parts[:-2])
    return reference


def reference_values(nodes: list[Node], base_url: str) -> Values:
    """References: Type/id (or absolute URL, canonical url and url|version) and identifiers."""
    found: dict[str, None] = {}  # ordered sets: the first occurrence keeps its place
    identifiers: dict[str, None] = {}
    for _type_name, data in nodes:
        if isinstance(data, str):  # canonical or uri
            found[data] = None
            if "|" in data:
                found[data.split("|", 1)[0]] = None
        elif isinstance(data, (dict, Mapping)):  # (dict first: no ABC check)
            reference = data.get("reference")
            key = reference_key(reference, base_url) if isinstance(reference, str) else None
            if key:
                found[key] = None
            identifier = data.get("identifier")
            if not isinstance(identifier, (dict, Mapping)):
                continue
            value = identifier.get("value")
            if isinstance(value, str):
                for key in token_key_tuple(identifier.get("system"), value):
                    identifiers[key] = None
    out = Values(list(found), list(found), identifiers=list(identifiers))
    if found:
        out.sort = (min(found), max(found))
    return out


def _cut(value: Any) -> Any:
    """A string cut to MAX_INDEXED_STRING; a value dict with its strings cut; others as they are."""
    if type(value) is str:
        return value[:MAX_INDEXED_STRING]
    if type(value) is dict:
        return {k: v[:MAX_INDEXED_STRING] if type(v) is str else v for k, v in value.items()}
    return value


def _too_long(value: Any) -> bool:
    """True when a value (or one string of a value dict) exceeds MAX_INDEXED_STRING."""
    if type(value) is str:
        return len(value) > MAX_INDEXED_STRING
    return type(value) is dict and any(
        type(v) is str and len(v) > MAX_INDEXED_STRING for v in value.values())


def _cap_strings(found: Values) -> None:
    """Cut every indexed string of one parameter to MAX_INDEXED_STRING (issue: size bombs)."""
    for name in ("values", "keys", "texts", "exact", "identifiers"):
        items = getattr(found, name)
        if any(_too_long(item) for item in items):
            setattr(found, name, list(dict.fromkeys(_cut(item) for item in items))
                    if name != "values" else [_cut(item) for item in items])
    if found.sort is not None and (_too_long(found.sort[0]) or _too_long(found.sort[1])):
        found.sort = (_cut(found.sort[0]), _cut(found.sort[1]))


class SearchIndexer:
    """Computes the `idx` document of a resource (the store's indexer hook)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def values(self, param: SearchParam, resource: Mapping[str, Any]) -> Values:
        """The index values of one parameter for one resource."""
        nodes = evaluate_terms(param.terms, resource)
        if not nodes:
            return Values()
        return self.node_values(param.kind, nodes, param)

    def node_values(self, kind: str, nodes: list[Node], param: SearchParam) -> Values:
        """Index values of already evaluated nodes, by parameter type."""
        if kind == "reference":
            return reference_values(nodes, self.base_url)
        if kind == "composite":
            return self._composite(nodes, param)
        return BUILDERS[kind](nodes, param.code_systems)

    def _composite(self, nodes: list[Node], param: SearchParam) -> Values:
        out = Values()
        for node in nodes:
            entry: dict[str, Any] = {}
            for position, component in enumerate(param.components):
                found = evaluate_on(node, compile_relative(component.expression))
                part = self.node_values(component.kind, found, param)
                if not part.values:
                    break
                entry[f"c{position}"] = part.values
            else:
                if entry and entry not in out.values:
                    out.values.append(entry)
        if all(c.kind in ("token", "reference", "uri") for c in param.components):
            keys: dict[str, None] = {}
            for entry in out.values:
                combos = [""]
                for position in range(len(param.components)):
                    combos = [f"{prefix}{COMPOSITE_SEP if prefix else ''}{value}"
                              for prefix in combos
                              for value in index_keys(entry[f"c{position}"])]
                for combo in combos:
                    keys[combo] = None
            out.keys = list(keys)
        return out

    def entries(self, resource: Mapping[str, Any]) -> list[tuple[str, Values]]:
        """The search values of every indexed parameter a resource has (strings capped), which
        the store lays out as the resource's index document (storage/query/index_document)."""
        type_name = resource.get("resourceType")
        if not isinstance(type_name, str):
            return []
        found_all: list[tuple[str, Values]] = []
        present = present_elements(resource)
        for param, code, kind, elements in plan(type_name):
            if elements is not None and present.isdisjoint(elements):
                continue  # no term's element is there: evaluate_terms would find nothing
            nodes = evaluate_terms(param.terms, resource)
            if not nodes:
                continue
            found = reference_values(nodes, self.base_url) if kind == "reference" else \
                self.node_values(kind, nodes, param)
            if not found.values and not found.identifiers and not found.texts:
                continue
            _cap_strings(found)
            if len(found.values) > MAX_VALUES:  # giant terminology resources: stay under 16 MB
                found.values, found.keys = found.values[:MAX_VALUES], found.keys[:MAX_VALUES]
            found_all.append((code, found))
        return found_all

    def __call__(self, resource: dict[str, Any]) -> dict[str, Any]:
        """The index document the store keeps for a resource (for tools, tests and benches)."""
        from fhir_server.storage.query.index_document import index_document

        return index_document(self.entries(resource))

    def param_values(self, type_name: str, code: str, resource: Mapping[str, Any]) -> Values:
        """The values of one named parameter (for includes and keyset cursors)."""
        param = lookup(type_name, code)
        if param is None or not param.supported or not param.terms:
            return Values()
        return self.values(param, resource)
