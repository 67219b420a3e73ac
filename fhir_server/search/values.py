"""Turn the FHIRPath results of one parameter into normalised index values, per parameter type."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeGuard

from fhir_server.search.normalize import (
    MAX_DATE,
    MIN_DATE,
    SEP,
    fhir_range,
    index_keys,
    norm_string,
    of_type_key,
    token_key_tuple,
)
from fhir_server.search.paths import Node

NAME_PARTS = ("family", "given", "prefix", "suffix", "text")
ADDRESS_PARTS = ("line", "city", "district", "state", "postalCode", "country", "text")
INF = float("inf")
# a token parameter on a `code` element whose required value set has at most this many codes
# (status, gender, intent, AuditEvent action...) is filtered, not indexed: an index entry that
# most resources share picks nothing out (the exact values in idx.p still answer every query)
LOW_CARDINALITY = 20


@dataclass
class Values:
    """What one parameter contributes to a resource's index document."""

    values: list[Any] = field(default_factory=list)  # idx.p.<code>: the exact, queried data
    keys: list[str] = field(default_factory=list)  # idx.k (prefixed with the code): index keys
    texts: list[str] = field(default_factory=list)  # idx.t.<code>: token display texts
    exact: list[str] = field(default_factory=list)  # idx.x.<code>: strings as written
    identifiers: list[str] = field(default_factory=list)  # idx.i.<code>: Reference.identifier
    sort: tuple[Any, Any] | None = None  # idx.s.<code>: (ascending key, descending key)


def _strings(node: Node) -> list[str]:
    """The string parts a string parameter searches in one node."""
    type_name, data = node
    if isinstance(data, str):
        return [data]
    if not _is_mapping(data):
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
    """Strings: normalised (case, accents) for prefix search, and as written for :exact."""
    found: dict[str, None] = {}  # ordered sets: the first occurrence keeps its place
    exact: dict[str, None] = {}
    for node in nodes:
        for text in _strings(node):
            normalised = norm_string(text)
            if normalised:
                found[normalised] = None
            exact[text] = None
    out = Values([{"v": value} for value in found], list(found), exact=list(exact))
    if found:
        out.sort = (min(found), max(found))
    return out


def _is_mapping(data: Any) -> TypeGuard[Mapping[str, Any]]:
    """isinstance(data, Mapping), quick for the dicts of parsed JSON (no ABC check)."""
    return isinstance(data, (dict, Mapping))


class _Tokens:
    """The keys, display texts and codes of one token parameter, in order and without repeats."""

    __slots__ = ("keys", "texts", "codes")

    def __init__(self) -> None:
        self.keys: dict[str, None] = {}
        self.texts: dict[str, None] = {}
        self.codes: list[str] = []  # for the sort keys

    def add(self, keys: tuple[str, ...]) -> None:
        """Add keys (one already there keeps its place)."""
        for key in keys:
            self.keys[key] = None

    def text(self, text: str) -> None:
        """Add a display text, normalised (empty ones are dropped)."""
        normalised = norm_string(text)
        if normalised:
            self.texts[normalised] = None

    def coding(self, coding: Any) -> None:
        """Add a Coding: its keys, its display text and its code."""
        if not _is_mapping(coding):
            return
        code = coding.get("code")
        if isinstance(code, str):
            if code:
                self.add(token_key_tuple(coding.get("system"), code))
            self.codes.append(code)
        display = coding.get("display")
        if isinstance(display, str):
            self.text(display)

    def identifier(self, type_name: str | None, data: Mapping[str, Any], value: str) -> None:
        """Add an Identifier (or ContactPoint): its keys, :of-type keys and type text."""
        self.codes.append(value)
        if type_name == "ContactPoint":
            self.add(token_key_tuple(None, value))
            return
        self.add(token_key_tuple(data.get("system"), value))
        kind = data.get("type")
        if not _is_mapping(kind):
            return
        for coding in kind.get("coding") or []:
            if _is_mapping(coding) and coding.get("code"):
                self.keys[of_type_key(coding.get("system", ""), coding["code"], value)] = None
        if isinstance(kind.get("text"), str):
            self.text(kind["text"])

    def values(self) -> Values:
        """What was collected (the index gets each code once, see normalize.index_key)."""
        found = list(self.keys)
        out = Values(found, index_keys(found), list(self.texts))
        if self.codes:
            out.sort = (min(self.codes), max(self.codes))
        return out


def is_low_cardinality(systems: Mapping[str, str]) -> bool:
    """True for a parameter on a code of a small required value set (not indexed)."""
    return 0 < len(systems) <= LOW_CARDINALITY


def token_values(nodes: list[Node], systems: Mapping[str, str]) -> Values:
    """Tokens: code, system|code and system| values (the index gets the code alone); texts for
    :text; types for :of-type. Codes of a small required value set get no index key."""
    if len(nodes) == 1 and type(nodes[0][1]) is str:  # a lone code (status, gender...)
        code = nodes[0][1]
        keys = list(token_key_tuple(systems.get(code), code))
        return Values(keys, [] if is_low_cardinality(systems) else [code], sort=(code, code))
    out = _Tokens()
    for type_name, data in nodes:
        if isinstance(data, bool):
            out.add(token_key_tuple(None, "true" if data else "false"))
            out.codes.append(str(data).lower())
        elif isinstance(data, str | int):
            text = str(data)
            out.add(token_key_tuple(systems.get(text), text))
            out.codes.append(text)
        elif _is_mapping(data):
            if "coding" in data or type_name == "CodeableConcept":
                for coding in data.get("coding") or []:
                    out.coding(coding)
                if isinstance(data.get("text"), str):
                    out.text(data["text"])
            elif "code" in data:
                out.coding(data)
            elif isinstance(data.get("value"), str):
                out.identifier(type_name, data, data["value"])
    found = out.values()
    if is_low_cardinality(systems):
        found.keys = []
    return found


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
    """Dates, periods and timings as UTC [lo, hi) ranges (found through the lo/hi range
    indexes: no index keys)."""
    if len(nodes) == 1 and type(nodes[0][1]) is str:  # a lone date (the usual case)
        single = fhir_range(nodes[0][1])
        if single is None:
            return Values()
        return Values([{"lo": single[0], "hi": single[1]}], sort=single)
    ranges: dict[tuple[datetime, datetime], None] = {}
    for _type_name, data in nodes:
        if isinstance(data, str):
            found = fhir_range(data)
        else:
            found = _timing(data) if isinstance(data, Mapping) and (
                "event" in data or "repeat" in data) else _period(data) if isinstance(
                data, Mapping) else None
        if found is not None:
            ranges[found] = None
    out = Values([{"lo": low, "hi": high} for low, high in ranges])
    if ranges:
        out.sort = (min(low for low, _high in ranges), max(high for _low, high in ranges))
    return out


def uri_values(nodes: list[Node], _systems: Mapping[str, str]) -> Values:
    """URIs (and canonicals) exactly as written."""
    found = list(dict.fromkeys(data for _type_name, data in nodes if isinstance(data, str)))
    out = Values(found, list(found))
    if found:
        out.sort = (min(found), max(found))
    return out


def number_values(nodes: list[Node], _systems: Mapping[str, str]) -> Values:
    """Numbers as [lo, hi] points (a Range gives its bounds)."""
    out = Values()
    for _type_name, data in nodes:
        if isinstance(data, int | float) and not isinstance(data, bool):
            out.values.append({"lo": float(data), "hi": float(data)})
    if out.values:
        out.sort = (min(e["lo"] for e in out.values), max(e["hi"] for e in out.values))
    return out


def unit_keys(quantity: Mapping[str, Any]) -> list[str]:
    """Keys a quantity's unit is found by: system|code, |code and |unit."""
    keys = []
    system, code, unit = quantity.get("system"), quantity.get("code"), quantity.get("unit")
    if isinstance(code, str):
        if isinstance(system, str):
            keys.append(f"{system}{SEP}{code}")
        keys.append(f"{SEP}{code}")
    if isinstance(unit, str) and f"{SEP}{unit}" not in keys:
        keys.append(f"{SEP}{unit}")
    return keys


def _quantity(data: Any) -> dict[str, Any] | None:
    if not isinstance(data, Mapping):
        return None
    if isinstance(data.get("value"), int | float):
        value = float(data["value"])
        return {"lo": value, "hi": value, "u": unit_keys(data)}
    low, high = data.get("low"), data.get("high")
    if isinstance(low, Mapping) or isinstance(high, Mapping):
        low, high = low or {}, high or {}
        return {"lo": float(low["value"]) if isinstance(low.get("value"), int | float) else -INF,
                "hi": float(high["value"]) if isinstance(high.get("value"), int | float) else INF,
                "u": unit_keys(low) + [k for k in unit_keys(high) if k not in unit_keys(low)]}
    return None


def quantity_values(nodes: list[Node], _systems: Mapping[str, str]) -> Values:
    """Quantities (and Ranges) as {lo, hi, u: unit keys}."""
    out = Values()
    for _type_name, data in nodes:
        entry = _quantity(data)
        if entry is not None and entry not in out.values:
            out.values.append(entry)
    if out.values:
        out.sort = (min(e["lo"] for e in out.values), max(e["hi"] for e in out.values))
    return out


BUILDERS: dict[str, Callable[[list[Node], Mapping[str, str]], Values]] = {
    "token": token_values, "string": string_values, "date": date_values, "uri": uri_values,
    "number": number_values, "quantity": quantity_values,
}
