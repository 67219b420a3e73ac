"""Fast JSON in and out (orjson)."""

from __future__ import annotations

from typing import Any

import orjson

from fhir_server.errors import InvalidRequest


def loads(body: bytes | str) -> Any:
    """Parse JSON text; malformed JSON becomes a 400 OperationOutcome."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"Malformed JSON body: {exc}", code="structure") from exc


def dumps(value: Any, pretty: bool = False) -> bytes:
    """Serialise to compact (or indented) UTF-8 JSON."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 if pretty else 0)
