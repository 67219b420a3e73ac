"""validate: a bad indicator query is a 400 OperationOutcome naming the parameter (issue 15
"Bad input": unknown area, group or vaccine code, inverted period, unknown dimension)."""

from __future__ import annotations

from datetime import date

import pytest

from fhir_server.analytics.query import (
    DIMENSIONS,
    DIMENSIONS_OF,
    INDICATORS,
    IndicatorQuery,
    validate,
)
from fhir_server.errors import InvalidRequest


@pytest.mark.parametrize(("query", "expression", "code"), [
    (IndicatorQuery("uptake"), "indicator", "not-supported"),
    (IndicatorQuery("doses", start=date(2022, 2, 1), end=date(2022, 1, 1)), "end", "value"),
    (IndicatorQuery("doses", area="99"), "area", "code-invalid"),
    (IndicatorQuery("doses", area="123"), "area", "code-invalid"),
    (IndicatorQuery("doses", group="17"), "group", "code-invalid"),
    (IndicatorQuery("doses", vaccine="sputnik"), "vaccine", "code-invalid"),
    (IndicatorQuery("doses", by=("district",)), "by", "not-supported"),
    (IndicatorQuery("coverage", by=("lot",)), "by", "not-supported"),
    (IndicatorQuery("doses", by=("day", "day")), "by", "value"),
])
def test_bad_queries_name_their_parameter(query: IndicatorQuery, expression: str,
                                          code: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        validate(query)
    assert raised.value.status == 400
    assert raised.value.issues[0].expression == (expression,)
    assert raised.value.issues[0].code == code


@pytest.mark.parametrize("area", ["01", "79", "02", "00004", "00001"])
def test_2025_and_legacy_areas_are_accepted(area: str) -> None:
    validate(IndicatorQuery("coverage", area=area, group="9", vaccine="moderna",
                            start=date(2022, 1, 1), end=date(2022, 1, 1), by=("area",)))


def test_every_indicator_stratifies_by_known_dimensions() -> None:
    assert set(DIMENSIONS_OF) == set(INDICATORS)
    assert all(set(dims) <= set(DIMENSIONS) for dims in DIMENSIONS_OF.values())
