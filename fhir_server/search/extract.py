"""The `idx` document stored beside each resource: search values extracted at write time.

Layout (one document per resource, under `idx`):
  k            shared multikey array "code\\x1ckey" of exact/prefix keys (one index per type)
  p.<code>     the parameter's exact values (token/reference/uri keys, {v} strings,
               {lo, hi} dates and numbers, {lo, hi, u} quantities, {c0, c1} composites)
  s.<code>     {a, d}: the ascending / descending sort key
  t.<code>     token display texts ({v}), for :text
  x.<code>     strings as written, for :exact
  i.<code>     Reference.identifier token keys, for :identifier
Date parameters also get range indexes on p.<code>.lo and p.<code>.hi.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fhir_server.search.normalize import (
    PARAM_SEP,
    REF_IDENTIFIER,
    STRING_KEY_LENGTH,
    token_keys,
)
from fhir_server.search.paths import Node, compile_relative, evaluate_on, evaluate_terms
from fhir_server.search.registry import SearchParam, indexed_params, lookup
from fhir_server.search.values import BUILDERS, Values

COMPOSITE_SEP = "\x1a"
MAX_VALUES = 5000  # values kept per parameter and resource


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
    out = Values()
    for _type_name, data in nodes:
        keys: list[str] = []
        if isinstance(data, str):  # canonical or uri
            keys = [data, data.split("|", 1)[0]] if "|" in data else [data]
        elif isinstance(data, Mapping):
            found = reference_key(data["reference"], base_url) if isinstance(
                data.get("reference"), str) else None
            keys = [found] if found else []
            identifier = data.get("identifier")
            if isinstance(identifier, Mapping) and isinstance(identifier.get("value"), str):
                for key in token_keys(identifier.get("system"), identifier["value"]):
                    if key not in out.identifiers:
                        out.identifiers.append(key)
        out.values.extend(k for k in keys if k not in out.values)
    out.keys = list(out.values)
    if out.values:
        out.sort = (min(out.values), max(out.values))
    return out


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
            for entry in out.values:
                combos = [""]
                for position in range(len(param.components)):
                    combos = [f"{prefix}{COMPOSITE_SEP if prefix else ''}{value}"
                              for prefix in combos for value in entry[f"c{position}"]]
                out.keys.extend(c for c in combos if c not in out.keys)
        return out

    def __call__(self, resource: dict[str, Any]) -> dict[str, Any]:
        """The `idx` document of a resource (empty parts omitted)."""
        type_name = resource.get("resourceType")
        if not isinstance(type_name, str):
            return {}
        keys: list[str] = []
        parts: dict[str, dict[str, Any]] = {"p": {}, "s": {}, "t": {}, "x": {}, "i": {}}
        for param in indexed_params(type_name):
            found = self.values(param, resource)
            if not found.values and not found.identifiers and not found.texts:
                continue
            if len(found.values) > MAX_VALUES:  # giant terminology resources: stay under 16 MB
                found.values, found.keys = found.values[:MAX_VALUES], found.keys[:MAX_VALUES]
            code = param.code
            if found.values:
                parts["p"][code] = found.values
            prefix = code + PARAM_SEP
            keys.extend(prefix + key[:STRING_KEY_LENGTH] for key in found.keys)
            keys.extend(prefix + REF_IDENTIFIER + key for key in found.identifiers)
            if found.sort is not None:
                parts["s"][code] = {"a": found.sort[0], "d": found.sort[1]}
            if found.texts:
                parts["t"][code] = [{"v": text} for text in found.texts]
            if found.exact:
                parts["x"][code] = found.exact
            if found.identifiers:
                parts["i"][code] = found.identifiers
        document: dict[str, Any] = {"k": list(dict.fromkeys(keys))} if keys else {}
        document.update((name, part) for name, part in parts.items() if part)
        return document

    def param_values(self, type_name: str, code: str, resource: Mapping[str, Any]) -> Values:
        """The values of one named parameter (for includes and keyset cursors)."""
        param = lookup(type_name, code)
        if param is None or not param.supported or not param.terms:
            return Values()
        return self.values(param, resource)
