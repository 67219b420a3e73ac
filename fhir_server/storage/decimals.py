"""Decimals in stored resources: model.decimals.Decimal <-> BSON Decimal128.

A BSON double would lose the precision of a FHIR decimal (0.50 -> 0.5); Decimal128 keeps its
digits and exponent. Written by `bson_ready` (a copy of the resource, only where it holds
decimals); read back by the codec of `decimal_db`. Plain notation is restored for decimals
without a positive exponent (1E-7 reads back 0.0000001; a written 1e2 reads back 1E+2).
"""

from __future__ import annotations

import decimal
from typing import Any

from bson.codec_options import TypeDecoder, TypeRegistry
from bson.decimal128 import Decimal128
from pymongo.database import Database

from fhir_server.model.decimals import Decimal


def _text(value: Decimal128) -> str:
    """The JSON text of a stored decimal."""
    number = value.to_decimal()
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent <= 0:
        return format(number, "f")
    return str(number)


class _DecimalDecoder(TypeDecoder):
    """BSON Decimal128 -> Decimal (with its text)."""

    bson_type = Decimal128

    def transform_bson(self, value: Any) -> Any:
        """Decode one stored decimal."""
        return Decimal(_text(value))


_REGISTRY = TypeRegistry([_DecimalDecoder()])


def decimal_db(db: Database[Any]) -> Database[Any]:
    """The same database, decoding stored decimals as Decimal."""
    return db.with_options(codec_options=db.codec_options.with_options(
        type_registry=_REGISTRY))


def _decimal128(value: Decimal) -> Any:
    try:
        return Decimal128(value.text)  # traps Inexact (more than 34 digits) and Overflow
    except (decimal.DecimalException, ValueError):
        return float(value)  # beyond Decimal128 (34 digits): kept as a double


def bson_ready(value: Any) -> Any:
    """`value` with every Decimal as a Decimal128 (the same object when it holds none)."""
    kind = type(value)
    if kind is dict:
        changed: dict[str, Any] | None = None
        for key, item in value.items():
            ready = bson_ready(item)
            if ready is not item:
                if changed is None:
                    changed = dict(value)
                changed[key] = ready
        return value if changed is None else changed
    if kind is list:
        items: list[Any] | None = None
        for index, item in enumerate(value):
            ready = bson_ready(item)
            if ready is not item:
                if items is None:
                    items = list(value)
                items[index] = ready
        return value if items is None else items
    if kind is Decimal:
        return _decimal128(value)
    return value
