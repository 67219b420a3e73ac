"""ValueSet.compose evaluation: include/exclude by system, concept list, filter and valueSet."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fhir_server.errors import InvalidRequest

from .store import CodeSystemIndex, Resource, Store
from .text import fold


@dataclass(frozen=True)
class Entry:
    """One code of an expansion, with its folded text for filtering."""

    system: str
    version: str | None
    code: str
    display: str | None
    designation: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        """(system, code) identity."""
        return self.system, self.code

    def searchable(self) -> str:
        """Folded display and designation values, joined."""
        return fold(" | ".join([self.display or "", *(v for _, v in self.designation)]))

    def to_contains(self) -> dict[str, Any]:
        """Render as a ValueSet.expansion.contains element."""
        out: dict[str, Any] = {"system": self.system, "code": self.code}
        if self.version:
            out["version"] = self.version
        if self.display:
            out["display"] = self.display
        if self.designation:
            out["designation"] = [{"language": lang, "value": v} if lang else {"value": v}
                                  for lang, v in self.designation]
        return out


def _designations(concept: Resource) -> tuple[tuple[str, str], ...]:
    return tuple((d.get("language", ""), d["value"]) for d in concept.get("designation", []))


def _entry(cs: CodeSystemIndex, code: str, override: Resource | None = None) -> Entry:
    concept = cs.concepts[code]
    display = (override or {}).get("display") or concept.get("display")
    desig = _designations(override or {}) or _designations(concept)
    return Entry(cs.url, cs.version, code, display, desig)


def _filter_codes(cs: CodeSystemIndex, flt: Resource) -> set[str]:
    prop, op, value = flt["property"], flt["op"], str(flt["value"])
    codes = set(cs.concepts)
    if op in ("is-a", "descendent-of", "is-not-a"):
        if prop != "concept":
            raise InvalidRequest(f"Filter op '{op}' is only supported on property 'concept'")
        below = set(cs.descendants(value))
        if op == "is-a":
            return below | ({value} & codes)
        return below if op == "descendent-of" else codes - below - {value}
    test: Callable[[str], bool]
    if op == "=":
        test = value.__eq__
    elif op == "in":
        test = set(value.split(",")).__contains__
    elif op == "regex":
        pattern = re.compile(value)
        test = lambda v: pattern.fullmatch(v) is not None  # noqa: E731
    else:
        raise InvalidRequest(f"ValueSet filter op '{op}' is not supported by this server")
    if prop in ("concept", "code"):
        return {c for c in codes if test(c)}
    return {c for c in codes if any(test(v) for v in cs.property_values(c, prop))}


def _part(store: Store, part: Resource, seen: tuple[str, ...]) -> dict[tuple[str, str], Entry]:
    """Entries selected by one include/exclude element."""
    result: dict[tuple[str, str], Entry] | None = None
    system = part.get("system")
    if system:
        if part.get("concept") and not store.has("CodeSystem", system):
            result = {(system, c["code"]): Entry(system, part.get("version"), c["code"],
                                                 c.get("display"), _designations(c))
                      for c in part["concept"]}
        else:
            cs = store.code_system(system, part.get("version"))
            if part.get("concept"):
                result = {(cs.url, c["code"]): _entry(cs, c["code"], c)
                          for c in part["concept"] if cs.get(c["code"]) is not None}
            else:
                codes = set(cs.concepts)
                for flt in part.get("filter", []):
                    codes &= _filter_codes(cs, flt)
                result = {(cs.url, c): _entry(cs, c) for c in sorted(codes)}
    for vs_url in part.get("valueSet", []):
        other = compose_entries(store, store.find("ValueSet", vs_url), seen)
        result = other if result is None else {k: v for k, v in result.items() if k in other}
    return result or {}


def compose_entries(store: Store, valueset: Resource,
                    seen: tuple[str, ...] = ()) -> dict[tuple[str, str], Entry]:
    """Every (system, code) -> Entry in the value set, in compose order."""
    url = valueset.get("url", "")
    if url in seen:
        raise InvalidRequest(f"ValueSet '{url}' includes itself (cycle: {' -> '.join(seen)})")
    compose = valueset.get("compose")
    if not compose:
        return {(c["system"], c["code"]): Entry(c["system"], c.get("version"), c["code"],
                                                c.get("display"))
                for c in valueset.get("expansion", {}).get("contains", []) if "code" in c}
    entries: dict[tuple[str, str], Entry] = {}
    for inc in compose.get("include", []):
        entries.update(_part(store, inc, (*seen, url)))
    for exc in compose.get("exclude", []):
        for key in _part(store, exc, (*seen, url)):
            entries.pop(key, None)
    return entries
