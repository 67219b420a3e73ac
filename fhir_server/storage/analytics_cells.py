"""The rollup cells of the indicators (issue 15 point 1): every cube's cells in one collection
(`_analytics_cells`, cubes in fhir_server/analytics/rollup.py), each cell `{_id: "<cube>|<cell>",
q: <cube>, <fields>, q<field>: "<cube>|<value>" for the fields a query may lead with,
n: {<measure>: count}}` changed with `$inc` deltas — one bulk write per change for all cubes
(one collection per cube took one command per cube: 6 where 1 does) — and the aggregation that
sums the cells of a query (a first `$match` on one indexed field, the rest, then `$group`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError

COLLECTION = "_analytics_cells"
LEGACY_PREFIX = "_analytics_cells_"  # the earlier layout: one collection per cube
DUPLICATE_KEY = 11000
CUBE_FIELD = "q"
# the fields a query may lead with, per cube (single-field indexes: SecantusDB plans those),
# indexed as q<field> = "<cube>|<value>"; a cube without one leads with its name (q)
INDEXED: dict[str, tuple[str, ...]] = {"ps": (), "vl": (), "pgv": ("p",), "pd": ("p",),
                                       "cg": ("p", "c"), "all": ("p", "c")}
LEAD_INDEXES = (CUBE_FIELD, *sorted({CUBE_FIELD + f for fields in INDEXED.values()
                                     for f in fields}))
Doc = dict[str, Any]
CellChanges = Mapping[str, tuple[Mapping[str, str], Mapping[str, int]]]


def ensure_cell_indexes(db: Database[Any]) -> None:
    """The indexes of the cells (made at start with the others)."""
    for name in LEAD_INDEXES:
        db[COLLECTION].create_index([(name, ASCENDING)], name=name,
                                    sparse=name != CUBE_FIELD)


def migrate_legacy_cubes(db: Database[Any]) -> int:
    """Move the cells of the earlier layout (one collection per cube) into the one collection,
    then drop the old ones (at start: several servers may do it at once); cells moved."""
    moved = 0
    legacy = [name for name in db.list_collection_names() if name.startswith(LEGACY_PREFIX)
              and name[len(LEGACY_PREFIX):] in INDEXED]
    for name in legacy:
        cube = name[len(LEGACY_PREFIX):]
        batch = [{**cell, **_stored_fields(cube, cell), "_id": f"{cube}|{cell['_id']}"}
                 for cell in db[name].find({})]
        for first in range(0, len(batch), 5000):
            try:
                moved += len(db[COLLECTION].insert_many(batch[first:first + 5000],
                                                        ordered=False).inserted_ids)
            except BulkWriteError as error:  # another server moved some of them first
                if any(e.get("code") != DUPLICATE_KEY for e in error.details["writeErrors"]):
                    raise
                moved += error.details.get("nInserted", 0)
        db[name].drop()
    return moved


def _stored_fields(cube: str, fields: Mapping[str, Any]) -> Doc:
    """A cell's fields as stored: its own, its cube and its lead keys."""
    stored: Doc = {**fields, CUBE_FIELD: cube}
    for name in INDEXED[cube]:
        stored[CUBE_FIELD + name] = f"{cube}|{fields.get(name, '')}"
    return stored


def _lead(cube: str, lead: Doc | None) -> Doc:
    """The first $match: a lead field's key in this cube, else the cube's name."""
    if not lead:
        return {CUBE_FIELD: cube}
    [(name, test)] = lead.items()
    if isinstance(test, Mapping) and set(test) == {"$in"}:
        return {CUBE_FIELD + name: {"$in": [f"{cube}|{value}" for value in test["$in"]]}}
    if isinstance(test, str):
        return {CUBE_FIELD + name: f"{cube}|{test}"}
    return {CUBE_FIELD: cube, name: test}


class AnalyticsCells:
    """The cubes of one database."""

    def __init__(self, db: Database[Any]) -> None:
        self.db = db

    def increment(self, cube: str, changes: CellChanges) -> None:
        """Apply counts to a cube's cells: cell id -> (its fields, measure -> delta)."""
        self.increment_cubes({cube: changes})

    def increment_cubes(self, changes: Mapping[str, CellChanges]) -> None:
        """Apply counts to the cells of several cubes at once (one bulk write)."""
        ops = [UpdateOne({"_id": f"{cube}|{cell}"},
                         {"$inc": {f"n.{m}": n for m, n in counts.items()},
                          "$setOnInsert": _stored_fields(cube, fields)}, upsert=True)
               for cube, cells in changes.items()
               for cell, (fields, counts) in cells.items() if counts]
        if ops:
            self.db[COLLECTION].bulk_write(ops, ordered=False)

    def insert(self, cube: str, cells: Iterable[Doc]) -> None:
        """Insert whole cells (rebuild and benchmarks: the cube must be empty)."""
        batch = [{**cell, **_stored_fields(cube, cell), "_id": f"{cube}|{cell['_id']}"}
                 for cell in cells]
        for first in range(0, len(batch), 5000):
            self.db[COLLECTION].insert_many(batch[first:first + 5000], ordered=False)

    def clear(self) -> None:
        """Empty every cube (the collection dropped and its indexes made again)."""
        self.db[COLLECTION].drop()
        ensure_cell_indexes(self.db)

    def sum(self, cube: str, lead: Doc | None, match: Doc, by: Sequence[str],
            measures: Sequence[str]) -> list[Doc]:
        """Sum the measures of a cube's matching cells per value of `by` (fields): one document
        per group, `_id` {field: value} and each measure's total."""
        stages: list[Doc] = [{"$match": _lead(cube, lead)}]
        if match:
            stages.append({"$match": match})
        group: Doc = {"_id": {field: f"${field}" for field in by} if by else None}
        group.update({measure: {"$sum": f"$n.{measure}"} for measure in measures})
        stages.append({"$group": group})
        return list(self.db[COLLECTION].aggregate(stages))

    def count(self, cube: str) -> int:
        """How many cells a cube holds (benchmarks)."""
        return int(self.db[COLLECTION].count_documents({CUBE_FIELD: cube}))
