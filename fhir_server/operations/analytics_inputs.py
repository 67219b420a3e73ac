"""The inputs of the indicator operations (R4 operations.html#request: the query string or a
Parameters body) read into an IndicatorQuery, each bad one a 400 naming the parameter.

`period-start`, `period-end` (0..1, YYYY-MM-DD, inclusive local dates), `area` (0..1, a 2025
province or commune code, or a legacy one; `system|code` accepted), `group` (0..1, a QĐ 3355
priority group), `vaccine` (0..1, a vn-covid19-vaccine code), `stratify-by` (0..*, repeated or
comma-separated dimensions the indicator has).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from fhir_server.analytics.query import DIMENSIONS_OF, IndicatorQuery, validate
from fhir_server.errors import FhirError, InvalidRequest
from fhir_server.model.parse import validate_resource
from fhir_server.operations.analytics_measures import TERMINOLOGY, Indicator
from fhir_server.operations.registry import OperationCall

SINGLE = ("period-start", "period-end", "area", "group", "vaccine")
NAMES = (*SINGLE, "stratify-by")
SYSTEMS = {"area": (f"{TERMINOLOGY}/vn-province", f"{TERMINOLOGY}/vn-commune",
                    f"{TERMINOLOGY}/vn-province-legacy", f"{TERMINOLOGY}/vn-ward-legacy"),
           "group": (f"{TERMINOLOGY}/vn-covid19-priority-group",),
           "vaccine": (f"{TERMINOLOGY}/vn-covid19-vaccine",)}
ENGINE_NAMES = {"start": "period-start", "end": "period-end", "by": "stratify-by"}
MAX_TEXT = 200


def _text(name: str, value: Any) -> str:
    if isinstance(value, dict) and "code" in value:  # a Coding (valueCoding)
        system = value.get("system")
        value = f"{system}|{value['code']}" if system else value["code"]
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise InvalidRequest.at(f"'{name}' must be a non-empty text of at most {MAX_TEXT} "
                                "characters", name, "value")
    return value.strip()


def _inputs(call: OperationCall) -> dict[str, list[str]]:
    if call.body is not None and not (isinstance(call.body, dict) and
                                      call.body.get("resourceType") == "Parameters"):
        raise InvalidRequest(f"${call.name} takes a Parameters resource (or the query string)",
                             code="structure")
    if call.body is not None:
        validate_resource(call.body, "Parameters", stored_only=False)  # 400 when not valid
    found: dict[str, list[str]] = {}
    for name, value in call.parameters():
        if name not in NAMES:
            raise InvalidRequest.at(f"Unknown parameter '{str(name)[:60]}' for ${call.name} "
                                    f"(one of {', '.join(NAMES)})", str(name)[:60],
                                    "not-supported")
        found.setdefault(name, []).append(_text(name, value))
    for name in SINGLE:
        if len(found.get(name, [])) > 1:
            raise InvalidRequest.at(f"'{name}' may be given once", name, "value")
    return found


def _date(name: str, values: list[str]) -> date | None:
    if not values:
        return None
    text = values[0]
    digits = text[:4] + text[5:7] + text[8:]
    try:
        if len(text) != 10 or text[4] != "-" or text[7] != "-" or not (
                digits.isascii() and digits.isdigit()):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidRequest.at(f"'{name}' must be a date YYYY-MM-DD, not '{values[0][:40]}'",
                                name, "value") from None


def _code(name: str, values: list[str]) -> str | None:
    if not values:
        return None
    system, bar, code = values[0].rpartition("|")
    if bar and system and system not in SYSTEMS[name]:
        raise InvalidRequest.at(f"'{name}' codes are of {' or '.join(SYSTEMS[name])}, not "
                                f"'{system[:80]}'", name, "code-invalid")
    if not code:
        raise InvalidRequest.at(f"'{name}' needs a code", name, "value")
    return code


def _dimensions(indicator: Indicator, values: list[str]) -> tuple[str, ...]:
    allowed = DIMENSIONS_OF[indicator.indicator]
    out: list[str] = []
    for value in (part.strip() for raw in values for part in raw.split(",")):
        if value not in allowed:
            raise InvalidRequest.at(f"${indicator.operation} cannot be stratified by "
                                    f"'{value[:40]}' (one of {', '.join(allowed)})",
                                    "stratify-by", "not-supported")
        if value in out:
            raise InvalidRequest.at(f"'{value}' is repeated in stratify-by", "stratify-by",
                                    "value")
        out.append(value)
    return tuple(out)


def indicator_query(indicator: Indicator, call: OperationCall) -> IndicatorQuery:
    """The engine query of one call (400 naming the parameter for any bad input)."""
    found = _inputs(call)
    start = _date("period-start", found.get("period-start", []))
    end = _date("period-end", found.get("period-end", []))
    if start is not None and end is not None and start > end:
        raise InvalidRequest.at(f"period-start ({start}) is after period-end ({end})",
                                "period-end", "value")
    query = IndicatorQuery(indicator.indicator, start, end,
                           _code("area", found.get("area", [])),
                           _code("group", found.get("group", [])),
                           _code("vaccine", found.get("vaccine", [])),
                           _dimensions(indicator, found.get("stratify-by", [])))
    try:
        validate(query)
    except FhirError as error:  # the engine names its own fields: name ours
        error.issues = [replace(issue, expression=tuple(ENGINE_NAMES.get(e, e)
                                                        for e in issue.expression))
                        for issue in error.issues]
        raise
    return query


def filters(query: IndicatorQuery) -> tuple[tuple[str, str], ...]:
    """The filters a query applies, as (parameter, code) pairs."""
    pairs = (("area", query.area), ("group", query.group), ("vaccine", query.vaccine))
    return tuple((name, value) for name, value in pairs if value is not None)
