"""The rollup cells: `$inc` deltas on upserted cells and the summing aggregation (lead
`$match`, the rest, `$group`), on the test server (issue 15 point 1)."""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from fhir_server.storage.analytics_cells import PREFIX, AnalyticsCells, ensure_cell_indexes


def test_increments_add_up_and_sum_groups_by_fields(db: Database[Any]) -> None:
    ensure_cell_indexes(db)
    cells = AnalyticsCells(db)
    cells.increment("cg", {"01|00004|9": ({"p": "01", "c": "00004", "g": "9"}, {"doses": 2}),
                           "01|00008|9": ({"p": "01", "c": "00008", "g": "9"}, {"doses": 1}),
                           "79|26734|1": ({"p": "79", "c": "26734", "g": "1"}, {"doses": 5})})
    cells.increment("cg", {"01|00004|9": ({"p": "01", "c": "00004", "g": "9"},
                                          {"doses": -1, "events": 1})})
    assert {r["_id"]["g"]: r["doses"] for r in cells.sum("cg", {"p": "01"}, {}, ["g"],
                                                          ["doses"])} == {"9": 2}
    [whole] = cells.sum("cg", None, {}, [], ["doses", "events"])
    assert (whole["doses"], whole["events"]) == (7, 1)
    assert cells.sum("cg", {"c": "00004"}, {"g": "9"}, ["c"], ["events"])[0]["events"] == 1
    assert set(db[PREFIX + "cg"].index_information()) >= {"p", "c"}


def test_insert_and_clear(db: Database[Any]) -> None:
    cells = AnalyticsCells(db)
    cells.insert("pgv", [{"_id": "01|9|moderna", "p": "01", "g": "9", "v": "moderna",
                          "n": {"doses": 3}}])
    assert cells.count("pgv") == 1
    assert cells.sum("pgv", None, {"v": "moderna"}, ["p"], ["doses"])[0]["doses"] == 3
    cells.clear()
    assert cells.sum("pgv", None, {}, [], ["doses"]) == []
