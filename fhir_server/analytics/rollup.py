"""Rollup cubes: pre-aggregated counters over subsets of the dimensions (pure functions).

Each person's contributions (facts.contributions, finest grain) are projected onto every cube;
a write changes a person's contributions from old to new and the difference is applied to the
cells as `$inc` deltas (storage/analytics_cells.py). A query reads the smallest cube holding
every dimension it filters or stratifies by (indicators.py), so its cost follows the number of
cells (bounded by the code lists and the days), not the number of doses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fhir_server.analytics.facts import Key, week_of

# the fields of a cell: province, commune, group, vaccine, lot, site, day (+ week, month)
FIELDS = ("p", "c", "g", "v", "l", "s", "d")
KEY_INDEX = {"d": 0, "c": 1, "p": 2, "g": 3, "v": 4, "l": 5, "s": 6}


@dataclass(frozen=True)
class Cube:
    """A cube: its name and the cell fields it keeps (day brings week and month)."""

    name: str
    fields: tuple[str, ...]

    @property
    def dimensions(self) -> frozenset[str]:
        """The fields a query may filter or group on in this cube."""
        extra = ("w", "m") if "d" in self.fields else ()
        return frozenset((*self.fields, *extra))


# smallest first: a query takes the first cube holding every field it needs. Each cube costs
# one cell update per write on SecantusDB (~8 ms), so there are few: totals by province, group
# and vaccine; sites (verification); vaccine and lot (adverse events); time series by
# province; communes; and the finest grain for any other combination. The first cube's fields
# are bounded code lists (34 provinces x 16 groups x the vaccines), so a query by province,
# group or vaccine reads the same few cells at any data size; sites, lots, days and communes
# grow with the campaign, so the cubes keeping them come after it.
CUBES = (Cube("pgv", ("p", "g", "v")), Cube("ps", ("p", "s")), Cube("vl", ("p", "v", "l")),
         Cube("pd", ("p", "d")), Cube("cg", ("p", "c", "g")), Cube("all", FIELDS))
CUBE_BY_NAME = {cube.name: cube for cube in CUBES}
Cells = dict[tuple[str, str], dict[str, int]]  # (cube, cell id) -> measure -> count


def cell_fields(cube: Cube, key: Key) -> dict[str, str]:
    """The field values of a cube's cell for one finest-grain key."""
    values = {name: key[KEY_INDEX[name]] for name in cube.fields}
    if "d" in values:
        day = values["d"]
        values["w"], values["m"] = (week_of(day), day[:7]) if day else ("", "")
    return values


def cell_id(cube: Cube, key: Key) -> str:
    """The id of a cube's cell (its kept fields joined)."""
    return "|".join(key[KEY_INDEX[name]] for name in cube.fields)


def project(contributions: Mapping[Key, Mapping[str, int]]) -> Cells:
    """The counts each cube's cells receive from these contributions."""
    out: Cells = {}
    for key, counts in contributions.items():
        for cube in CUBES:
            cell = out.setdefault((cube.name, cell_id(cube, key)), {})
            for measure, count in counts.items():
                cell[measure] = cell.get(measure, 0) + count
    return out


def delta(old: Mapping[Key, Mapping[str, int]], new: Mapping[Key, Mapping[str, int]]
          ) -> dict[Key, dict[str, int]]:
    """new - old, per key and measure, without the zeros."""
    out: dict[Key, dict[str, int]] = {}
    for key in set(old) | set(new):
        before, after = old.get(key, {}), new.get(key, {})
        change = {m: after.get(m, 0) - before.get(m, 0) for m in set(before) | set(after)}
        change = {m: n for m, n in change.items() if n}
        if change:
            out[key] = change
    return out


def keys_of(key: Key) -> dict[str, dict[str, str]]:
    """Cube name -> the cell fields of this key in that cube (for the cell documents)."""
    return {cube.name: cell_fields(cube, key) for cube in CUBES}
