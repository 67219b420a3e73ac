"""The rollup cells of the indicators (issue 15 point 1): one collection per cube
(`_analytics_cells_<cube>`, fhir_server/analytics/rollup.py), each cell `{_id, <fields>,
n: {<measure>: count}}` changed with `$inc` deltas, and the aggregation that sums the cells of
a query (a first `$match` on one indexed field, the rest, then `$group`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.database import Database

PREFIX = "_analytics_cells_"
# the fields a query may lead with, per cube (single-field indexes: SecantusDB plans those);
# the province index keeps a province's share of a cube one index range whatever its size
INDEXED: dict[str, tuple[str, ...]] = {"ps": (), "vl": (), "pgv": ("p",), "pd": ("p",),
                                       "cg": ("p", "c"), "all": ("p", "c")}
Doc = dict[str, Any]


def ensure_cell_indexes(db: Database[Any]) -> None:
    """The indexes of every cube (made at start with the others)."""
    for cube, fields in INDEXED.items():
        for field in fields:
            db[PREFIX + cube].create_index([(field, ASCENDING)], name=field)


class AnalyticsCells:
    """The cubes of one database."""

    def __init__(self, db: Database[Any]) -> None:
        self.db = db

    def increment(self, cube: str, changes: Mapping[str, tuple[Mapping[str, str],
                                                                Mapping[str, int]]]) -> None:
        """Apply counts to a cube's cells: cell id -> (its fields, measure -> delta)."""
        ops = [UpdateOne({"_id": cell}, {"$inc": {f"n.{m}": n for m, n in counts.items()},
                                         "$setOnInsert": dict(fields)}, upsert=True)
               for cell, (fields, counts) in changes.items() if counts]
        if ops:
            self.db[PREFIX + cube].bulk_write(ops, ordered=False)

    def insert(self, cube: str, cells: Iterable[Doc]) -> None:
        """Insert whole cells (rebuild and benchmarks: the cube must be empty)."""
        batch = list(cells)
        for first in range(0, len(batch), 5000):
            self.db[PREFIX + cube].insert_many(batch[first:first + 5000], ordered=False)

    def clear(self) -> None:
        """Empty every cube."""
        for cube in INDEXED:
            self.db[PREFIX + cube].delete_many({})

    def sum(self, cube: str, lead: Doc | None, match: Doc, by: Sequence[str],
            measures: Sequence[str]) -> list[Doc]:
        """Sum the measures of the matching cells per value of `by` (fields): one document
        per group, `_id` {field: value} and each measure's total."""
        stages: list[Doc] = [{"$match": lead}] if lead else []
        if match:
            stages.append({"$match": match})
        group: Doc = {"_id": {field: f"${field}" for field in by} if by else None}
        group.update({measure: {"$sum": f"$n.{measure}"} for measure in measures})
        stages.append({"$group": group})
        return list(self.db[PREFIX + cube].aggregate(stages))

    def count(self, cube: str) -> int:
        """How many cells a cube holds (benchmarks)."""
        return int(self.db[PREFIX + cube].estimated_document_count())
