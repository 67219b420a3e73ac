"""Keyset cursors (search.html#paginglinks): opaque, typed, tied to their sort."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from fhir_server.errors import InvalidRequest
from fhir_server.search.paging import Cursor, after_term, decode, encode, signature, sort_fields


def test_sort_fields_end_with_the_id() -> None:
    assert sort_fields([]) == [("_id", 1)]
    assert sort_fields([("birthdate", -1)]) == [("birthdate", -1), ("_id", -1)]
    assert sort_fields([("_lastUpdated", 1), ("_id", -1)]) == [("_lastUpdated", 1), ("_id", -1)]


def test_round_trip_with_dates() -> None:
    fields = sort_fields([("birthdate", 1)])
    cursor = Cursor([datetime(2000, 1, 1, tzinfo=UTC), "id-1"], True, ["id-1"],
                    signature(fields))
    again = decode(encode(cursor), signature(fields))
    assert again.values == cursor.values and again.ties == ["id-1"]


@pytest.mark.parametrize("payload", [
    {"v": [{"$ne": None}], "f": True, "t": [], "s": "_id"},
    {"v": [["a"]], "f": True, "t": [], "s": "_id"},
    {"v": ["a"], "f": True, "t": [{"$gt": ""}], "s": "_id"},
    {"v": ["a"], "f": True, "t": [], "s": "-_id"},
    [1, 2],
])
def test_forged_cursors_are_rejected(payload: object) -> None:
    text = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
    with pytest.raises(InvalidRequest):
        decode(text, "_id")


def test_a_cursor_for_another_sort_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        after_term(sort_fields([("birthdate", 1)]), Cursor(["id-3"]))
    term = after_term(sort_fields([]), Cursor(["id-3"], False, []))
    assert term.sort == (("_id", 1),) and term.values == ("id-3",) and not term.forward
