"""Date parameters (search.html#date): eq ne gt lt ge le sa eb ap over [low, high) ranges.

A stored value is its UTC range {lo, hi}; the search value is the range its precision implies.
One-sided prefixes are one indexed comparison on lo or hi; `eq` starts from the lo range index
(a range within the value starts inside it) and checks the whole range; everything else is an
$elemMatch over the ranges.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fhir_server.fhirdates import date_range
from fhir_server.search.criteria import Context
from fhir_server.search.normalize import ceil_ms, ms
from fhir_server.search.params import Clause
from fhir_server.storage.query.base import (
    Part,
    elem_or,
    missing,
    prefix_of,
    values_field,
)

PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
ONE_SIDED = {"gt": ("hi", "$gt", 1), "lt": ("lo", "$lt", 0), "ge": ("hi", "$gt", 0),
             "le": ("lo", "$lt", 1), "sa": ("lo", "$gte", 1), "eb": ("hi", "$lte", 0)}
ONE_MS = timedelta(milliseconds=1)


def search_range(value: str, name: str) -> tuple[datetime, datetime]:
    """The UTC [low, high) range of a search date (400 when malformed)."""
    low, high = date_range(value, name)
    return ms(low), ceil_ms(high)


def approx(low: datetime, high: datetime, now: datetime) -> tuple[datetime, datetime]:
    """The `ap` range: widened by 10% of the gap between now and the value (at least a day)."""
    gap = max(abs(now - low), abs(now - high)) / 10
    margin = max(gap, timedelta(days=1))
    return low - margin, high + margin


def element_condition(prefix: str, low: datetime, high: datetime, now: datetime
                      ) -> dict[str, Any]:
    """The condition one stored {lo, hi} range must meet (for $elemMatch)."""
    eq = {"lo": {"$gte": low}, "hi": {"$lte": high}}
    if prefix == "eq":
        return eq
    if prefix == "ne":
        return {"$or": [{"lo": {"$lt": low}}, {"hi": {"$gt": high}}]}
    if prefix == "ap":
        wide_low, wide_high = approx(low, high, now)
        return {"lo": {"$lt": wide_high}, "hi": {"$gt": wide_low}}
    side, operator, use_high = ONE_SIDED[prefix]
    return {side: {operator: high if use_high else low}}


def _parse(clause: Clause) -> list[tuple[str, datetime, datetime, str]]:
    parsed = []
    for value in clause.values:
        prefix, text = prefix_of(value, clause.name, PREFIXES)
        low, high = search_range(text, clause.name)
        parsed.append((prefix, low, high, text))
    return parsed


def _last_updated(parsed: list[tuple[str, datetime, datetime, str]], ctx: Context) -> Part:
    """_lastUpdated reads the scalar `ts` (indexed): its range is [ts, ts + 1 ms)."""
    tests: list[dict[str, Any]] = []
    for prefix, low, high, _text in parsed:
        if prefix == "eq":
            tests.append({"ts": {"$gte": low, "$lt": high}})
        elif prefix == "ne":
            tests.append({"ts": {"$not": {"$gte": low, "$lt": high}}})
        elif prefix == "ap":
            wide_low, wide_high = approx(low, high, ctx.now)
            tests.append({"ts": {"$gte": wide_low - ONE_MS, "$lt": wide_high}})
        else:
            side, operator, use_high = ONE_SIDED[prefix]
            bound = high if use_high else low
            shift = {"hi": -ONE_MS, "lo": timedelta(0)}[side]
            tests.append({"ts": {operator: bound + shift}})
    if len(tests) == 1:
        return Part(exact=tests[0], hint=next(iter(tests[0].items())), hint_exact=True, rank=45)
    return Part(raw=[{"$or": tests}], rank=45)


def compile_date(clause: Clause, ctx: Context) -> Part:
    """Compile a date clause."""
    code = clause.param.code
    if clause.modifier == "missing":
        return missing(clause, "ts" if code == "_lastUpdated" else None)
    parsed = _parse(clause)
    if code == "_lastUpdated":
        return _last_updated(parsed, ctx)
    field_name = values_field(code)
    if len(parsed) == 1 and parsed[0][0] in ONE_SIDED:
        prefix, low, high, _text = parsed[0]
        side, operator, use_high = ONE_SIDED[prefix]
        test = (f"{field_name}.{side}", {operator: high if use_high else low})
        return Part(exact=dict([test]), hint=test, hint_exact=True, rank=45)
    conditions = [element_condition(p, low, high, ctx.now) for p, low, high, _t in parsed]
    exact: dict[str, Any] = {field_name: {"$elemMatch": elem_or(conditions, "lo")}}
    if all(p == "eq" for p, _l, _h, _t in parsed):  # a stored range starts inside a value's
        low = min(low for _p, low, _h, _t in parsed)
        high = max(high for _p, _l, high, _t in parsed)
        return Part(exact=exact, hint=(f"{field_name}.lo", {"$gte": low, "$lt": high}), rank=20)
    return Part(exact=exact, rank=60)
