"""Compute an IndicatorQuery in MongoDB: pick the smallest rollup cube holding every dimension
the query filters or stratifies by (rollup.CUBES), then one aggregation over its cells (first a
`$match` on one indexed field, then the rest, then `$group`): storage/analytics_cells.py. The
cost follows the number of cells, bounded by the code lists (and the days for time queries),
not the number of doses. Coverage cells get their denominator from population.py."""

from __future__ import annotations

from typing import Any

from fhir_server.analytics.areas import resolve_area
from fhir_server.analytics.population import population
from fhir_server.analytics.query import MEASURES, Cell, IndicatorQuery, SeriousEvent, validate
from fhir_server.analytics.rollup import CUBES, Cube
from fhir_server.storage.analytics_cells import INDEXED, AnalyticsCells
from fhir_server.storage.analytics_facts import AnalyticsFacts, analytics_db

FIELD = {"province": "p", "commune": "c", "group": "g", "vaccine": "v", "lot": "l",
         "site": "s", "day": "d", "week": "w", "month": "m"}
NO_DENOMINATOR = frozenset({"vaccine", "site", "day", "week", "month", "lot"})
Doc = dict[str, Any]


def _area(query: IndicatorQuery) -> tuple[str, tuple[str, ...]] | None:
    return resolve_area(query.area) if query.area is not None else None


def fields_of(query: IndicatorQuery) -> list[str]:
    """The cell field of each `by` dimension (area: the level below the area filter)."""
    area = _area(query)
    below = "c" if area is not None else "p"
    return [below if name == "area" else FIELD[name] for name in query.by]


def _filters(query: IndicatorQuery) -> Doc:
    found: Doc = {}
    area = _area(query)
    if area is not None:
        kind, codes = area
        found["c" if kind == "commune" else "p"] = codes[0] if len(codes) == 1 else {"$in":
                                                                                    list(codes)}
    if query.group is not None:
        found["g"] = query.group
    if query.vaccine is not None:
        found["v"] = query.vaccine
    if query.start or query.end:
        span: Doc = {}
        if query.start:
            span["$gte"] = query.start.isoformat()
        if query.end:
            span["$lte"] = query.end.isoformat()
        found["d"] = span
    return found


def choose_cube(needed: set[str]) -> Cube:
    """The smallest cube holding every needed field (the finest one holds them all)."""
    return next(cube for cube in CUBES if needed <= cube.dimensions)


def _split(cube: Cube, filters: Doc) -> tuple[Doc | None, Doc]:
    """The lead filter (one indexed field, the most selective first) and the rest."""
    for name in ("c", "s", "p", "d"):
        if name in filters and name in INDEXED[cube.name]:
            rest = {k: v for k, v in filters.items() if k != name}
            return {name: filters[name]}, rest
    return None, filters


def _denominator(query: IndicatorQuery, key: dict[str, str], path: str | None) -> int:
    if set(query.by) & NO_DENOMINATOR or query.vaccine is not None:
        return 0
    area = _area(query)
    areas = area[1] if area is not None else None
    for name in ("area", "commune", "province"):
        if name in key:
            areas = (key[name],)
    group = key.get("group", query.group)
    return population(path).of(areas, group or None) if group != "" else 0


def compute(source: Any, query: IndicatorQuery) -> list[Cell]:
    """The cells of an indicator; source is a Repository (its store's database is read, no
    resource leaves), a resource store or a database. Raises InvalidRequest for a bad query.
    With no `by`, one cell (the totals, zeros included); else one per non-zero stratum."""
    validate(query)
    by = fields_of(query)
    filters = _filters(query)
    cube = choose_cube(set(by) | set(filters))
    lead, rest = _split(cube, filters)
    measures = [m for m in MEASURES[query.indicator] if m != "population"]
    rows = AnalyticsCells(analytics_db(source)).sum(cube.name, lead, rest, by, measures)
    cells = []
    for row in rows:
        counts = {m: int(row.get(m) or 0) for m in measures}
        if query.by and not any(counts.values()):
            continue
        key = {name: str((row["_id"] or {}).get(field, "")) for name, field
               in zip(query.by, by, strict=True)}
        cells.append(Cell(key, counts))
    if not query.by and not cells:
        cells = [Cell({}, dict.fromkeys(measures, 0))]
    if query.indicator == "coverage":
        services = getattr(source, "__dict__", {}).get("services")  # a Repository's
        settings = getattr(services, "settings", None)
        path = getattr(settings, "population_file", None) or None
        cells = [Cell(c.key, {**c.counts, "population": _denominator(query, c.key, path)})
                 for c in cells]
    return sorted(cells, key=lambda c: tuple(c.key[name] for name in query.by))


def serious_events(source: Any, query: IndicatorQuery) -> list[SeriousEvent]:
    """The serious adverse events of the query's period (the suspect dose's day), area, group
    and vaccine, by date (no subject)."""
    validate(query)
    filters = _filters(query)
    if "d" in filters:
        filters["dd"] = filters.pop("d")
    lead_name = next((n for n in ("c", "p", "dd") if n in filters), None)
    lead: Doc | None = {lead_name: filters.pop(lead_name)} if lead_name else None
    found = AnalyticsFacts(analytics_db(source)).serious_events(filters, lead)
    return [SeriousEvent(str(doc["_id"]), doc.get("e", ""), doc.get("v", ""), doc.get("l", ""),
                         doc.get("d", ""), doc.get("s", "")) for doc in found]
