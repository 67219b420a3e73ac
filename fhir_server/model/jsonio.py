"""JSON in and out: strict parsing (no duplicate keys, no NaN) and fast orjson output.

Numbers with a fraction or an exponent are parsed as model.decimals.Decimal, which keeps their
text, and are written back verbatim (FHIR R4 datatypes.html#decimal: precision is significant).
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from fhir_server.errors import InvalidRequest
from fhir_server.model.decimals import Decimal


class _DuplicateKey(ValueError):
    """A JSON object names the same property twice (RFC 8259 §4: names SHOULD be unique)."""


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Build one JSON object, refusing a repeated property name (the last would silently win)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


def _no_constant(name: str) -> Any:
    """NaN and Infinity are not JSON."""
    raise ValueError(f"{name} is not a JSON number")


_DECODER = json.JSONDecoder(object_pairs_hook=_unique_object, parse_constant=_no_constant,
                            parse_float=Decimal)


def loads(body: bytes | str) -> Any:
    """Parse JSON strictly (orjson), then build it refusing duplicate keys; errors are 400."""
    try:
        orjson.loads(body)  # strict RFC 8259: UTF-8, no lone surrogates, no NaN (fast)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"Malformed JSON body: {exc}", code="structure") from exc
    try:
        text = bytes(body).decode("utf-8") if not isinstance(body, str) else body
        return _DECODER.decode(text)
    except _DuplicateKey as exc:
        raise InvalidRequest(f"Duplicate JSON property '{exc}' (a property may appear once; "
                             "http://hl7.org/fhir/R4/json.html)", code="structure") from exc
    except ValueError as exc:
        raise InvalidRequest(f"Malformed JSON body: {exc}", code="structure") from exc


def _verbatim(value: Any) -> Any:
    """orjson's hook for the types it does not know: a Decimal is written as its text."""
    if isinstance(value, Decimal):
        return orjson.Fragment(value.text)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any, pretty: bool = False) -> bytes:
    """Serialise to compact (or indented) UTF-8 JSON (Decimals verbatim)."""
    return orjson.dumps(value, default=_verbatim, option=orjson.OPT_INDENT_2 if pretty else 0)
