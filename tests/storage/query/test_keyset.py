"""Sort keys and keyset conditions on the stored layout (search.html#_sort, #paginglinks)."""

from __future__ import annotations

from fhir_server.search.criteria import After, Sort
from fhir_server.search.paging import sort_fields
from fhir_server.storage.query.keyset import keyset_part, sort_spec


def test_sort_keys_map_to_stored_fields() -> None:
    keys = tuple(sort_fields([("birthdate", -1)]))
    assert sort_spec(Sort(keys)) == [("idx.s.birthdate.d", -1), ("_id", -1)]
    # a page before a cursor walks the same keys the other way
    assert sort_spec(Sort(keys, backward=True)) == [("idx.s.birthdate.d", 1), ("_id", 1)]
    assert sort_spec(Sort(tuple(sort_fields([("_lastUpdated", 1)])))) == [("ts", 1), ("_id", 1)]
    assert sort_spec(None) == []


def test_keyset_conditions() -> None:
    keys = tuple(sort_fields([("birthdate", 1)]))
    tied = keyset_part(After(keys, ("x", "id-9"), True, ("id-8", "id-9")))
    assert tied.exact == {"idx.s.birthdate.a": {"$gte": "x"}, "_id": {"$nin": ["id-8", "id-9"]}}
    general = keyset_part(After(keys, ("x", "id-9"), False))
    assert general.raw and "$or" in general.raw[0]
    assert keyset_part(After((("_id", 1),), ("id-3",))).exact == {"_id": {"$gt": "id-3"}}
