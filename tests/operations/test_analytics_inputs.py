"""Inputs of the indicator operations (R4 operations.html#request: query string or Parameters
body, the same names) read into an IndicatorQuery; bad ones are 400 naming the parameter."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from fhir_server.analytics.query import IndicatorQuery
from fhir_server.errors import InvalidRequest
from fhir_server.operations.analytics_inputs import indicator_query
from fhir_server.operations.analytics_measures import BY_OPERATION
from fhir_server.operations.registry import OperationCall

CS = "https://fhir.moh.gov.vn/terminology/CodeSystem"


def _call(query: list[tuple[str, str]] | None = None, body: Any = None) -> OperationCall:
    return OperationCall("vaccination-coverage", "MeasureReport", None,
                         "POST" if body else "GET", query or [], body)


def _read(name: str, call: OperationCall) -> IndicatorQuery:
    return indicator_query(BY_OPERATION[name], call)


def test_query_string_and_comma_lists() -> None:
    query = _read("vaccination-coverage", _call([
        ("period-start", "2021-07-01"), ("period-end", "2021-12-31"),
        ("area", f"{CS}/vn-province|01"), ("stratify-by", "group,month"),
        ("stratify-by", "commune")]))
    assert query == IndicatorQuery("coverage", date(2021, 7, 1), date(2021, 12, 31), "01",
                                   None, None, ("group", "month", "commune"))


def test_parameters_body_with_codings() -> None:
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "group", "valueCoding": {"system": f"{CS}/vn-covid19-priority-group",
                                          "code": "9"}},
        {"name": "vaccine", "valueCode": "astrazeneca"},
        {"name": "period-end", "valueDate": "2021-09-30"}]}
    query = _read("adverse-event-rates", _call(body=body))
    assert (query.indicator, query.group, query.vaccine, query.end) == (
        "adverse-events", "9", "astrazeneca", date(2021, 9, 30))


@pytest.mark.parametrize(("operation", "pairs", "expression"), [
    ("vaccination-coverage", [("period-start", "2021-7-1")], "period-start"),
    ("vaccination-coverage", [("period-end", "2021-02-30")], "period-end"),
    ("vaccination-coverage", [("period-start", "2021-09-02"), ("period-end", "2021-09-01")],
     "period-end"),
    ("registration-backlog", [("stratify-by", "vaccine")], "stratify-by"),
    ("vaccination-coverage", [("stratify-by", "")], "stratify-by"),
    ("vaccination-coverage", [("area", "0")], "area"),
    ("vaccination-coverage", [("area", f"{CS}/vn-commune|")], "area"),
    ("vaccination-coverage", [("group", "17")], "group"),
    ("vaccination-coverage", [("vaccine", "x" * 300)], "vaccine"),
    ("vaccination-coverage", [("_count", "10")], "_count"),
])
def test_bad_inputs(operation: str, pairs: list[tuple[str, str]], expression: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        _read(operation, _call(pairs))
    assert raised.value.issues[0].expression == (expression,)


def test_legacy_area_codes_are_accepted() -> None:
    """A legacy (pre-2025) province code is mapped by the engine, not refused."""
    assert _read("doses-administered", _call([("area", "02")])).area == "02"


@pytest.mark.parametrize("body", [
    {"resourceType": "Parameters", "parameter": "area"},
    {"resourceType": "Parameters", "parameter": [{"valueString": "01"}]},
    {"resourceType": "Parameters", "parameter": [{"name": "area", "valueQuantity": {"value": 1}}]},
    {"resourceType": "Patient"}, ["not", "a", "resource"],
])
def test_bad_bodies_are_400(body: Any) -> None:
    with pytest.raises(InvalidRequest):
        _read("vaccination-coverage", _call(body=body))
