"""Keyset paging: a page continues after the sort key (+ id) of the last item it returned.

Links stay correct while data changes - new, changed or deleted resources never shift later
pages the way an offset would. The cursor is opaque base64url JSON of typed values; decoding
checks every value's type, so a forged cursor is data (or a 400), never an operator.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fhir_server.errors import InvalidRequest
from fhir_server.search.compile.base import Part

MAX_TIES = 20  # ids of a tie group carried in a cursor; beyond that the $or form is used
SortField = tuple[str, int]  # (document path, 1 | -1)


@dataclass
class Cursor:
    """Where a page starts: after (forward) or before (backward) a boundary item."""

    values: list[Any]  # sort values of the boundary item, one per sort field (id last)
    forward: bool = True
    ties: list[str] = field(default_factory=list)  # ids already returned with values[0]
    signature: str = ""


def sort_fields(sort: Sequence[tuple[str, int]]) -> list[SortField]:
    """Document paths for _sort keys (scalar sort keys), ending with the _id tie-break."""
    fields: list[SortField] = []
    for code, direction in sort:
        if code == "_id":
            fields.append(("_id", direction))
        elif code == "_lastUpdated":
            fields.append(("ts", direction))
        else:
            fields.append((f"idx.s.{code}.{'a' if direction > 0 else 'd'}", direction))
    if not fields or fields[-1][0] != "_id":
        fields.append(("_id", fields[-1][1] if fields else 1))
    return fields


def signature(fields: Sequence[SortField]) -> str:
    """A short description of the sort, so a cursor cannot be replayed on another sort."""
    return ",".join(f"{'-' if d < 0 else ''}{name}" for name, d in fields)


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"d": value.astimezone(UTC).isoformat()}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"d"} and isinstance(value["d"], str):
        try:
            return datetime.fromisoformat(value["d"])
        except ValueError:
            raise InvalidRequest.at("Malformed _cursor", "_cursor", "value") from None
    if value is None or isinstance(value, str | int | float) and not isinstance(value, bool):
        return value
    raise InvalidRequest.at("Malformed _cursor", "_cursor", "value")


def encode(cursor: Cursor) -> str:
    """The opaque text of a cursor."""
    payload = {"v": [_encode_value(v) for v in cursor.values], "f": cursor.forward,
               "t": cursor.ties, "s": cursor.signature}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(text: str, expected_signature: str) -> Cursor:
    """Read a cursor made by `encode` for the same sort (400 otherwise)."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidRequest.at("Malformed _cursor", "_cursor", "value") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("v"), list) \
            or not isinstance(payload.get("t"), list) or payload.get("s") != expected_signature:
        raise InvalidRequest.at("The _cursor does not belong to this search", "_cursor", "value")
    ties = payload["t"]
    if len(ties) > MAX_TIES or not all(isinstance(t, str) for t in ties):
        raise InvalidRequest.at("Malformed _cursor", "_cursor", "value")
    return Cursor([_decode_value(v) for v in payload["v"]], bool(payload.get("f", True)),
                  ties, expected_signature)


def _after(name: str, direction: int, value: Any) -> dict[str, Any] | None:
    """Items strictly after `value` in this field's order (None sorts first ascending)."""
    if value is None:
        return {name: {"$ne": None}} if direction > 0 else None
    if direction > 0:
        return {name: {"$gt": value}}
    return {name: {"$not": {"$gte": value}}}


def keyset_part(fields: Sequence[SortField], cursor: Cursor) -> Part:
    """The condition for the items after (or before) the cursor's boundary item."""
    directions = [d if cursor.forward else -d for _name, d in fields]
    names = [name for name, _d in fields]
    values = cursor.values
    if len(names) != len(values):
        raise InvalidRequest.at("The _cursor does not belong to this search", "_cursor", "value")
    if len(names) == 1:
        return Part(exact={"_id": {"$gt" if directions[0] > 0 else "$lt": values[0]}}, rank=98)
    if len(names) == 2 and cursor.forward and cursor.ties and values[0] is not None:
        first = {"$gte": values[0]} if directions[0] > 0 else {"$not": {"$gt": values[0]}}
        return Part(exact={names[0]: first, "_id": {"$nin": cursor.ties}}, rank=98)
    branches = []
    for index, name in enumerate(names):
        after = _after(name, directions[index], values[index])
        if after is None:
            continue
        equal = {names[i]: values[i] for i in range(index)}
        branches.append({**equal, **after} if not set(equal) & set(after) else
                        {"$and": [equal, after]})
    if not branches:
        return Part(exact={"_id": {"$in": []}}, rank=0)
    return Part(raw=[{"$or": branches}], rank=98)


def next_cursor(items: Sequence[Any], values_of: Callable[[Any], list[Any]],
                fields: Sequence[SortField], previous: Cursor | None) -> Cursor:
    """The cursor after the last item of a page (carrying its tie group)."""
    last = values_of(items[-1])
    ties: list[str] = []
    if len(fields) == 2:
        page_ties = [values_of(item)[-1] for item in items if values_of(item)[0] == last[0]]
        if previous is None or values_of(items[0])[0] != last[0]:
            ties = page_ties  # the tie group starts on this page: we saw all of it
        elif previous.forward and previous.ties and previous.values[:1] == last[:1]:
            ties = list(dict.fromkeys([*previous.ties, *page_ties]))
        if len(ties) > MAX_TIES:
            ties = []
    return Cursor(last, True, ties, signature(fields))


def previous_cursor(items: Sequence[Any], values_of: Callable[[Any], list[Any]],
                    fields: Sequence[SortField]) -> Cursor:
    """The cursor before the first item of a page."""
    return Cursor(values_of(items[0]), False, [], signature(fields))
