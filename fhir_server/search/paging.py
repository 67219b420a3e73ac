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
from fhir_server.search.criteria import After, SortKey

MAX_TIES = 20  # ids of a tie group carried in a cursor; beyond that the $or form is used
SortField = SortKey  # (_id | _lastUpdated | parameter code, 1 | -1)


@dataclass
class Cursor:
    """Where a page starts: after (forward) or before (backward) a boundary item."""

    values: list[Any]  # sort values of the boundary item, one per sort field (id last)
    forward: bool = True
    ties: list[str] = field(default_factory=list)  # ids already returned with values[0]
    signature: str = ""


def sort_fields(sort: Sequence[tuple[str, int]]) -> list[SortField]:
    """The _sort keys (each parameter's scalar sort key), ending with the _id tie-break."""
    fields: list[SortField] = list(sort)
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


def after_term(fields: Sequence[SortField], cursor: Cursor) -> After:
    """The criteria term for the items after (or before) the cursor's boundary item."""
    if len(fields) != len(cursor.values):
        raise InvalidRequest.at("The _cursor does not belong to this search", "_cursor", "value")
    return After(tuple(fields), tuple(cursor.values), cursor.forward, tuple(cursor.ties))


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
