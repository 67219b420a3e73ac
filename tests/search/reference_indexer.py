"""The `idx` builder as it was before it was optimised: plain, unmemoised, quadratic.

The reference test_extract_equivalence.py holds search/extract.py, search/values.py,
search/normalize.py and fhirdates.py to: the same documents, down to the order of every list.
Only what those modules no longer do this way is kept here (with reference_normalize.py);
the FHIRPath evaluation, the parameter registry and the unchanged builders are shared.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fhir_server.search.normalize import (
    MAX_DATE,
    MIN_DATE,
    PARAM_SEP,
    REF_IDENTIFIER,
    STRING_KEY_LENGTH,
    of_type_key,
    token_keys,
)
from fhir_server.search.paths import Node, compile_relative, evaluate_on, evaluate_terms
from fhir_server.search.registry import SearchParam, indexed_params
from fhir_server.search.values import (
    ADDRESS_PARTS,
    NAME_PARTS,
    Values,
    number_values,
    quantity_values,
)
from tests.search.reference_normalize import bucket_keys, fhir_range, norm_string

COMPOSITE_SEP = "\x1a"
MAX_VALUES = 5000


def _strings(node: Node) -> list[str]:
    type_name, data = node
    if isinstance(data, str):
        return [data]
    if not isinstance(data, Mapping):
        return []
    parts = NAME_PARTS if type_name == "HumanName" or "family" in data or "given" in data \
        else ADDRESS_PARTS if type_name == "Address" or "city" in data or "line" in data \
        else ()
    if type_name == "Extension" or "url" in data:
        return [v for k, v in data.items() if k.startswith("value") and isinstance(v, str)]
    found: list[str] = []
    for part in parts:
        value = data.get(part)
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list):
            found.extend(item for item in value if isinstance(item, str))
    return found


def string_values(nodes: list[Node], _systems: Mapping[str, str]) -> Values:
    out = Values()
    for node in nodes:
        for text in _strings(node):
            normalised = norm_string(text)
            if normalised and {"v": normalised} not in out.values:
                out.values.append({"v": normalised})
                out.keys.append(normalised)
            if text not in out.exact:
                out.exact.append(text)
    if out.values:
        plain = [item["v"] for item in out.values]
        out.sort = (min(plain), max(plain))
    return out


def _add(out: Values, keys: list[str]) -> None:
    for key in keys:
        if key not in out.values:
            out.values.append(key)


def _text(out: Values, text: str) -> None:
    normalised = norm_string(text)
    if normalised and normalised not in out.texts:
        out.texts.append(normalised)


def _coding(out: Values, coding: Any) -> None:
    if not isinstance(coding, Mapping):
        return
    code = coding.get("code")
    if isinstance(code, str) and code:
        _add(out, token_keys(coding.get("system"), code))
    if isinstance(coding.get("display"), str):
        _text(out, coding["display"])


def token_values(nodes: list[Node], systems: Mapping[str, str]) -> Values:
    out = Values()
    codes: list[str] = []
    for type_name, data in nodes:
        if isinstance(data, bool):
            _add(out, token_keys(None, "true" if data else "false"))
            codes.append(str(data).lower())
        elif isinstance(data, str | int) and not isinstance(data, bool):
            text = str(data)
            _add(out, token_keys(systems.get(text), text))
            codes.append(text)
        elif isinstance(data, Mapping):
            if "coding" in data or type_name == "CodeableConcept":
                for coding in data.get("coding") or []:
                    _coding(out, coding)
                    if isinstance(coding, Mapping) and isinstance(coding.get("code"), str):
                        codes.append(coding["code"])
                if isinstance(data.get("text"), str):
                    _text(out, data["text"])
            elif "code" in data:
                _coding(out, data)
                if isinstance(data.get("code"), str):
                    codes.append(data["code"])
            elif isinstance(data.get("value"), str):
                value = data["value"]
                codes.append(value)
                if type_name == "ContactPoint":
                    _add(out, token_keys(None, value))
                    continue
                _add(out, token_keys(data.get("system"), value))
                kind = data["type"] if isinstance(data.get("type"), Mapping) else {}
                for coding in kind.get("coding") or []:
                    if isinstance(coding, Mapping) and coding.get("code"):
                        _add(out, [of_type_key(coding.get("system", ""), coding["code"], value)])
                if isinstance(kind.get("text"), str):
                    _text(out, kind["text"])
    out.keys = list(out.values)
    if codes:
        out.sort = (min(codes), max(codes))
    return out


def _period(data: Mapping[str, Any]) -> tuple[datetime, datetime] | None:
    start = fhir_range(data["start"]) if isinstance(data.get("start"), str) else None
    end = fhir_range(data["end"]) if isinstance(data.get("end"), str) else None
    if start is None and end is None:
        return None
    return (start[0] if start else MIN_DATE), (end[1] if end else MAX_DATE)


def _timing(data: Mapping[str, Any]) -> tuple[datetime, datetime] | None:
    ranges = [r for r in (fhir_range(e) for e in data.get("event") or [] if isinstance(e, str))
              if r]
    bounds = (data.get("repeat") or {}).get("boundsPeriod")
    if isinstance(bounds, Mapping) and (period := _period(bounds)):
        ranges.append(period)
    if not ranges:
        return None
    return min(r[0] for r in ranges), max(r[1] for r in ranges)


def date_values(nodes: list[Node], _systems: Mapping[str, str]) -> Values:
    out = Values()
    for _type_name, data in nodes:
        found = fhir_range(data) if isinstance(data, str) else (
            _timing(data) if isinstance(data, Mapping) and ("event" in data or "repeat" in data)
            else _period(data) if isinstance(data, Mapping) else None)
        if found is None:
            continue
        entry = {"lo": found[0], "hi": found[1]}
        if entry not in out.values:
            out.values.append(entry)
            out.keys.extend(k for k in bucket_keys(*found) if k not in out.keys)
    if out.values:
        out.sort = (min(e["lo"] for e in out.values), max(e["hi"] for e in out.values))
    return out


def uri_values(nodes: list[Node], _systems: Mapping[str, str]) -> Values:
    out = Values()
    for _type_name, data in nodes:
        if isinstance(data, str) and data not in out.values:
            out.values.append(data)
    out.keys = list(out.values)
    if out.values:
        out.sort = (min(out.values), max(out.values))
    return out


BUILDERS = {"token": token_values, "string": string_values, "date": date_values,
            "uri": uri_values, "number": number_values, "quantity": quantity_values}


def reference_key(reference: str, base_url: str) -> str | None:
    """The original reference key."""
    if not reference or reference.startswith("#"):
        return None
    if base_url and reference.startswith(base_url + "/"):
        reference = reference[len(base_url) + 1:]
    parts = reference.split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        reference = "/".join(parts[:-2])
    return reference


def reference_values(nodes: list[Node], base_url: str) -> Values:
    out = Values()
    for _type_name, data in nodes:
        keys: list[str] = []
        if isinstance(data, str):
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


class ReferenceIndexer:
    """The original SearchIndexer."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def node_values(self, kind: str, nodes: list[Node], param: SearchParam) -> Values:
        """Index values of evaluated nodes, by parameter type."""
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
        """The original `idx` document of a resource."""
        type_name = resource.get("resourceType")
        if not isinstance(type_name, str):
            return {}
        keys: list[str] = []
        parts: dict[str, dict[str, Any]] = {"p": {}, "s": {}, "t": {}, "x": {}, "i": {}}
        for param in indexed_params(type_name):
            nodes = evaluate_terms(param.terms, resource)
            found = self.node_values(param.kind, nodes, param) if nodes else Values()
            if not found.values and not found.identifiers and not found.texts:
                continue
            if len(found.values) > MAX_VALUES:
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
