"""The rollup cells: `$inc` deltas on upserted cells and the summing aggregation (lead
`$match`, the rest, `$group`), on the test server (issue 15 point 1)."""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from fhir_server.storage.analytics_cells import (
    COLLECTION,
    AnalyticsCells,
    ensure_cell_indexes,
    migrate_legacy_cubes,
)


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
    assert set(db[COLLECTION].index_information()) >= {"q", "qp", "qc"}


def test_all_cubes_change_in_one_write_and_stay_apart(db: Database[Any]) -> None:
    """One bulk write carries every cube's cells; a cube's sum never counts another's."""
    ensure_cell_indexes(db)
    cells = AnalyticsCells(db)
    cells.increment_cubes({
        "pgv": {"01|9|moderna": ({"p": "01", "g": "9", "v": "moderna"}, {"doses": 1})},
        "ps": {"01|site-1": ({"p": "01", "s": "site-1"}, {"doses": 1})},
        "cg": {"01|00004|9": ({"p": "01", "c": "00004", "g": "9"}, {"doses": 1})}})
    for cube in ("pgv", "ps", "cg"):
        assert cells.count(cube) == 1
        [whole] = cells.sum(cube, None, {}, [], ["doses"])
        assert whole["doses"] == 1, cube
        [province] = cells.sum(cube, {"p": "01"} if cube != "ps" else None, {"p": "01"}, [],
                               ["doses"])
        assert province["doses"] == 1, cube
    assert cells.sum("cg", {"p": {"$in": ["01", "79"]}}, {}, ["c"], ["doses"]) == [
        {"_id": {"c": "00004"}, "doses": 1}]
    assert cells.sum("pgv", {"p": "79"}, {}, [], ["doses"]) == []


def test_insert_and_clear(db: Database[Any]) -> None:
    cells = AnalyticsCells(db)
    cells.insert("pgv", [{"_id": "01|9|moderna", "p": "01", "g": "9", "v": "moderna",
                          "n": {"doses": 3}}])
    assert cells.count("pgv") == 1
    assert cells.sum("pgv", None, {"v": "moderna"}, ["p"], ["doses"])[0]["doses"] == 3
    cells.clear()
    assert cells.sum("pgv", None, {}, [], ["doses"]) == []


def test_cells_of_the_one_collection_per_cube_layout_move_in_at_start(db: Database[Any]
                                                                      ) -> None:
    """A database written by an earlier version keeps its indicators without a rebuild."""
    db["_analytics_cells_pgv"].insert_many([
        {"_id": "01|9|moderna", "p": "01", "g": "9", "v": "moderna", "n": {"doses": 3}},
        {"_id": "79|1|pfizer", "p": "79", "g": "1", "v": "pfizer", "n": {"doses": 2}}])
    db["_analytics_cells_ps"].insert_one({"_id": "01|s1", "p": "01", "s": "s1",
                                          "n": {"doses": 3}})
    ensure_cell_indexes(db)
    assert migrate_legacy_cubes(db) == 3
    assert migrate_legacy_cubes(db) == 0  # done once: the old collections are gone
    assert not {"_analytics_cells_pgv", "_analytics_cells_ps"} & set(db.list_collection_names())
    cells = AnalyticsCells(db)
    assert cells.sum("pgv", {"p": "01"}, {}, [], ["doses"])[0]["doses"] == 3
    assert cells.sum("ps", None, {}, ["s"], ["doses"]) == [{"_id": {"s": "s1"}, "doses": 3}]
