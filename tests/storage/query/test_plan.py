"""The planner: hint first, exact conditions merged per field, the rest in $and."""

from __future__ import annotations

from fhir_server.storage.query.base import Part
from fhir_server.storage.query.plan import build_filter, match_stages


def test_hint_goes_first_and_replaces_exact_when_exact() -> None:
    token = Part(exact={"idx.p.identifier": "a"}, hint=("idx.k", "identifier\x1ca"),
                 hint_exact=True, rank=10)
    name = Part(exact={"idx.p.name": {"$elemMatch": {"v": {"$gte": "n"}}}},
                hint=("idx.k", {"$gte": "name"}), rank=30)
    query = build_filter([name, token])
    assert list(query) == ["idx.k", "idx.p.name"]
    assert query["idx.k"] == "identifier\x1ca"


def test_inexact_hint_keeps_the_exact_condition() -> None:
    name = Part(exact={"idx.p.name": {"$elemMatch": {"v": "x"}}}, hint=("idx.k", "h"), rank=30)
    assert build_filter([name]) == {"idx.k": "h", "idx.p.name": {"$elemMatch": {"v": "x"}}}


def test_same_field_equalities_become_all_and_others_and() -> None:
    first = Part(exact={"idx.p.identifier": "a"}, rank=50)
    second = Part(exact={"idx.p.identifier": "b"}, rank=50)
    third = Part(exact={"idx.p.identifier": {"$nin": ["c"]}}, rank=90)
    raw = Part(raw=[{"$or": [{"x": 1}, {"y": 2}]}])
    query = build_filter([first, second, third, raw])
    assert query["idx.p.identifier"] == {"$all": ["a", "b"]}
    assert {"idx.p.identifier": {"$nin": ["c"]}} in query["$and"]
    assert {"$or": [{"x": 1}, {"y": 2}]} in query["$and"]


def test_mandatory_filters_are_anded() -> None:
    part = Part(exact={"idx.p.patient": "Patient/1"}, hint=("idx.k", "k"), hint_exact=True)
    query = build_filter([part], [{"idx.k": "other"}, {"$or": [{"a": 1}]}])
    assert query["idx.k"] == {"$all": ["k", "other"]}
    assert query["$and"] == [{"$or": [{"a": 1}]}]


def test_match_stages_put_the_lead_alone_first() -> None:
    assert match_stages({"idx.k": "a"}) == [{"$match": {"idx.k": "a"}}]
    stages = match_stages({"idx.k": "a", "idx.p.code": "b", "$and": [{"x": 1}]})
    assert stages == [{"$match": {"idx.k": "a"}},
                      {"$match": {"idx.p.code": "b", "$and": [{"x": 1}]}}]
