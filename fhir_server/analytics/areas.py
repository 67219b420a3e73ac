"""Codes the indicators accept: 2025 provinces and communes (legacy ones mapped through the
ConceptMaps vn-province-legacy-to-2025 and vn-ward-legacy-to-2025), priority groups (QĐ 3355)
and vaccines (vn-covid19-vaccine), all read from terminology/."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson

from fhir_server.terminology.store import DEFAULT_ROOT


def _load(folder: str, name: str) -> dict[str, Any]:
    return dict(orjson.loads((DEFAULT_ROOT / folder / f"{name}.json").read_bytes()))


def _targets(name: str) -> dict[str, tuple[str, ...]]:
    return {e["code"]: tuple(t["code"] for t in e.get("target", []))
            for e in _load("conceptmaps", name)["group"][0]["element"]}


@dataclass(frozen=True)
class Codes:
    """The code lists: provinces, commune -> province, legacy maps, groups, vaccines."""

    provinces: frozenset[str]
    commune_province: dict[str, str]
    legacy_provinces: dict[str, tuple[str, ...]]
    legacy_communes: dict[str, tuple[str, ...]]
    groups: frozenset[str]
    vaccines: frozenset[str]


@cache
def codes() -> Codes:
    """The code lists, loaded once from terminology/."""
    communes = {c["code"]: next(p["valueCode"] for p in c["property"] if p["code"] == "province")
                for c in _load("codesystems", "vn-commune")["concept"]}
    return Codes(
        frozenset(c["code"] for c in _load("codesystems", "vn-province")["concept"]), communes,
        _targets("vn-province-legacy-to-2025"), _targets("vn-ward-legacy-to-2025"),
        frozenset(c["code"] for c in _load("codesystems",
                                           "vn-covid19-priority-group-qd3355")["concept"]),
        frozenset(c["code"] for c in _load("codesystems", "vn-covid19-vaccine")["concept"]))


def resolve_area(code: str) -> tuple[str, tuple[str, ...]] | None:
    """("province" | "commune", 2025 codes) for an area code (2025 first, else legacy); None."""
    known = codes()
    if len(code) == 2:
        if code in known.provinces:
            return "province", (code,)
        mapped = known.legacy_provinces.get(code)
        return ("province", mapped) if mapped else None
    if len(code) == 5:
        if code in known.commune_province:
            return "commune", (code,)
        mapped = known.legacy_communes.get(code)
        return ("commune", mapped) if mapped else None
    return None


def province_of(commune: str) -> str | None:
    """The 2025 province of a 2025 commune code."""
    return codes().commune_province.get(commune)


def to_2025_province(code: str | None) -> str | None:
    """A province code as a 2025 code (a legacy one mapped to its first target), or None."""
    if not code:
        return None
    found = resolve_area(code) if len(code) == 2 else None
    return found[1][0] if found else None


def to_2025_commune(code: str | None) -> str | None:
    """A commune code as a 2025 code (a legacy ward mapped to its first target), or None."""
    if not code:
        return None
    found = resolve_area(code) if len(code) == 5 else None
    return found[1][0] if found else None
