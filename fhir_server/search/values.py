"""Turn the FHIRPath results of one parameter into normalised index values, per parameter type."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fhir_server.search.normalize import (
    MAX_DATE,
    MIN_DATE,
    SEP,
    bucket_keys,
    fhir_range,
    norm_string,
    of_type_key,
    token_keys,
)
from fhir_server.search.paths import Node

NAME_PARTS = ("family", "given", "prefix", "suffix", "text")
ADDRESS_PARTS = ("line", "city", "district", "state", "postalCode", "country", "text")
INF = float("inf")


@dataclass
class Values:
    """What one parameter contributes to a resource's index document."""

    values: list[Any] = field(default_factory=list)  # idx.p.<code>: the exact, queried data
    keys: list[str] = field(default_factory=list)  # idx.k (prefixed with the code): index hints
    texts: list[str] = field(default_factory=list)  # idx.t.<code>: token display texts
    exact: list[str] = field(default_factory=list)  # idx.x.<code>: strings as written
    identifiers: list[str] = field(default_factory=list)  # idx.i.<code>: Reference.identifier
    sort: tuple[Any, Any] | None = None  # idx.s.<code>: (ascending key, descending key)


def _strings(node: Node) -> list[str]:
    """The string parts a string parameter searches in one node."""
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
    """Strings: normalised (case, accents) for prefix search, and as written for :exact."""
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


def _coding(out: Values, coding: Any, systems: Mapping[str, str]) -> None:
    if not isinstance(coding, Mapping):
        return
    code = coding.get("code")
    if isinstance(code, str) and code:
        _add(out, token_keys(coding.get("system"), code))
    display = coding.get("display")
    if isinstance(display, str):
        _text(out, display)


def _add(out: Values, keys: list[str]) -> None:
    for key in keys:
        if key not in out.values:
            out.values.append(key)


def _text(out: Values, text: str) -> None:
    normalised = norm_string(text)
    if normalised and normalised not in out.texts:
        out.texts.append(normalised)


def token_values(nodes: list[Node], systems: Mapping[str, str]) -> Values:
    """Tokens: code, system|code and system| keys; texts for :text; types for :of-type."""
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
                    _coding(out, coding, systems)
                    if isinstance(coding, Mapping) and isinstance(coding.get("code"), str):
                        codes.append(coding["code"])
                if isinstance(data.get("text"), str):
                    _text(out, data["text"])
            elif "code" in data:
                _coding(out, data, systems)
                if isinstance(data.get("code"), str):
                    codes.append(data["code"])
            elif isinstance(data.get("value"), str):
                value = data["value"]
                codes.append(value)
                if type_name == "ContactPoint":
                    _add(out, token_keys(None, value))
                    continue
                _add(out, token_keys(data.get("system"), value))
                kind: Mapping[str, Any] = data["type"] if isinstance(data.get("type"), Mapping) \
                    else {}
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
    """Dates, periods and timings as UTC [lo, hi) ranges, with calendar-bucket keys for `eq`."""
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
    """URIs (and canonicals) exactly as written."""
    out = Values()
    for _type_name, data in nodes:
        if isinstance(data, str) and data not in out.values:
            out.values.append(data)
    out.keys = list(out.values)
    if out.values:
        out.sort = (min(out.values), max(out.values))
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
