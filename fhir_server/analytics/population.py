"""Population denominators of the coverage indicator, from a data file (FHIR_POPULATION_FILE,
else the shipped terminology/population/vn-population-2025.json made by
terminology/scripts/make_population.py; its sources and assumptions are written in it).

File shape: `provinces` {2025 code: {name, population}}, optional `communes` {code: population},
optional `groups` {area code: {group: population}} (real per-group figures, preferred), optional
`groupShares` {group: share of an area's population} (used when `groups` lacks the area).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from fhir_server.errors import ServiceUnavailable
from fhir_server.terminology.store import DEFAULT_ROOT

DEFAULT_FILE = DEFAULT_ROOT / "population" / "vn-population-2025.json"


@dataclass(frozen=True)
class Population:
    """Totals per area (province and commune codes) and per area and group."""

    areas: dict[str, int]
    groups: dict[str, dict[str, int]]
    shares: dict[str, float]

    def of(self, areas: tuple[str, ...] | None, group: str | None) -> int:
        """The population of these 2025 areas (None: the country) in a group (None: all);
        0 when the file does not know it."""
        codes = areas if areas is not None else tuple(a for a in self.areas if len(a) == 2)
        total = 0
        for code in codes:
            if group is None:
                total += self.areas.get(code, 0)
            elif group in self.groups.get(code, {}):
                total += self.groups[code][group]
            else:
                total += round(self.areas.get(code, 0) * self.shares.get(group, 0.0))
        return total


@cache
def _load(path: str) -> Population:
    try:
        data: dict[str, Any] = orjson.loads(Path(path).read_bytes())
        areas = {code: int(entry["population"]) for code, entry in data["provinces"].items()}
        areas.update({code: int(n) for code, n in data.get("communes", {}).items()})
        groups = {area: {g: int(n) for g, n in entry.items()}
                  for area, entry in data.get("groups", {}).items()}
        shares = {g: float(n) for g, n in data.get("groupShares", {}).items()}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ServiceUnavailable(f"The population file {path} cannot be read: {error}",
                                 code="exception") from None
    return Population(areas, groups, shares)


def population(path: str | None = None) -> Population:
    """The denominators of this deployment (its file, else the shipped one), read once."""
    return _load(str(path or DEFAULT_FILE))
