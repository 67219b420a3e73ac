"""The person documents: compare-and-set swaps (one, and many at once, a lost race redone one
by one) and the serious-event listing (issue 15 point 1)."""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from fhir_server.storage.analytics_facts import (
    AnalyticsFacts,
    analytics_db,
    ensure_analytics_indexes,
)


def test_swap_creates_then_replaces_on_the_version(db: Database[Any]) -> None:
    facts = AnalyticsFacts(db)
    old, new = facts.swap("p1", lambda doc: {**doc, "area": {"p": "01"}})
    assert (old["v"], new["v"]) == (0, 1)
    old, new = facts.swap("p1", lambda doc: {**doc, "area": {"p": "79"}})
    assert old["area"] == {"p": "01"} and new["v"] == 2
    assert (facts.person("p1") or {})["area"] == {"p": "79"}


def test_a_concurrent_writer_makes_the_swap_read_again(db: Database[Any]) -> None:
    facts = AnalyticsFacts(db)
    facts.swap("p2", lambda doc: {**doc, "n": 1})
    seen: list[int] = []

    def change(doc: dict[str, Any]) -> dict[str, Any]:
        seen.append(doc["v"])
        if len(seen) == 1:  # another writer gets there first
            db["_analytics_people"].update_one({"_id": "p2"}, {"$inc": {"v": 1, "n": 10}})
        return {**doc, "n": doc["n"] + 1}
    facts.swap("p2", change)
    assert seen == [1, 2]
    assert (facts.person("p2") or {})["n"] == 12


def test_swap_many_and_its_lost_races(db: Database[Any]) -> None:
    facts = AnalyticsFacts(db)
    facts.swap("a", lambda doc: {**doc, "n": 1})
    calls: list[str] = []

    def bump(person: str) -> Any:
        def change(doc: dict[str, Any]) -> dict[str, Any]:
            calls.append(person)
            if person == "a" and calls.count("a") == 1:
                db["_analytics_people"].update_one({"_id": "a"}, {"$inc": {"v": 1, "n": 5}})
            return {**doc, "n": doc.get("n", 0) + 1}
        return change
    pairs = facts.swap_many({"a": bump("a"), "b": bump("b")})
    assert {new["_id"]: new["n"] for _, new in pairs} == {"a": 7, "b": 1}
    assert calls.count("a") == 2 and calls.count("b") == 1


def test_serious_listing_and_database_lookup(db: Database[Any]) -> None:
    ensure_analytics_indexes(db)
    facts = AnalyticsFacts(analytics_db(db))
    facts.list_serious([], {"e1": {"p": "01", "dd": "2022-01-02", "d": "2022-01-03"},
                            "e2": {"p": "79", "dd": "2022-01-01", "d": "2022-01-01"}})
    assert [d["_id"] for d in facts.serious_events({}, None)] == ["e2", "e1"]
    assert [d["_id"] for d in facts.serious_events({}, {"p": "01"})] == ["e1"]
    facts.list_serious(["e1"], {})
    assert [d["_id"] for d in facts.serious_events({}, None)] == ["e2"]
