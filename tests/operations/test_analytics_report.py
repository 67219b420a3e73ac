"""Indicator tables as summary MeasureReports (FHIR R4 measurereport.html: status, type
summary, measure, period, group.population.count, group.measureScore, group.stratifier.stratum
value/component) and as CSV, checked against the fhir.resources R4B model."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from fhir_server.analytics.query import Cell, IndicatorQuery
from fhir_server.operations.analytics import table
from fhir_server.operations.analytics_csv import to_csv
from fhir_server.operations.analytics_measures import BY_OPERATION, INDICATORS
from fhir_server.operations.analytics_report import DATA_ABSENT, measure_report

CS = "https://fhir.moh.gov.vn/terminology/CodeSystem"
COVERAGE = BY_OPERATION["vaccination-coverage"]
AE = BY_OPERATION["adverse-event-rates"]


def _valid(report: dict[str, Any]) -> None:
    get_fhir_model_class("MeasureReport").model_validate(report)


def _group(report: dict[str, Any], code: str) -> dict[str, Any]:
    return next(g for g in report["group"] if g["code"]["coding"][0]["code"] == code)


def _pop(element: dict[str, Any], code: str) -> dict[str, Any]:
    return next(p for p in element["population"] if p["code"]["coding"][0]["code"] == code)


def _coverage(by: tuple[str, ...], strata: list[Cell]) -> dict[str, Any]:
    query = IndicatorQuery("coverage", date(2021, 7, 1), date(2021, 12, 31), by=by)
    total = [Cell({}, {"people_1plus": 1210, "people_primary": 900, "people_booster": 40,
                       "population": 5000})]
    report = measure_report(table(COVERAGE, query, total, strata))
    _valid(report)
    return report


def test_summary_report_without_strata() -> None:
    report = _coverage((), [])
    assert (report["status"], report["type"]) == ("complete", "summary")
    assert report["measure"] == "https://fhir.moh.gov.vn/fhir/Measure/vn-vaccination-coverage"
    assert report["period"] == {"start": "2021-07-01", "end": "2021-12-31"}
    one = _group(report, "people_1plus")
    assert _pop(one, "numerator")["count"] == 1210
    assert _pop(one, "denominator")["count"] == 5000
    assert one["measureScore"]["value"] == pytest.approx(0.242)
    assert "stratifier" not in one
    assert [g["code"]["coding"][0]["code"] for g in report["group"]] == [
        "people_1plus", "people_primary", "people_booster"]


def test_strata_coded_and_masked() -> None:
    strata = [Cell({"province": "01"}, {"people_1plus": 1200, "people_primary": 897,
                                        "people_booster": 40, "population": 4000}),
              Cell({"province": "79"}, {"people_1plus": 10, "people_primary": 3,
                                        "people_booster": 0, "population": 1000})]
    report = _coverage(("province",), strata)
    primary = _group(report, "people_primary")
    stratifier = primary["stratifier"][0]
    assert stratifier["code"][0]["coding"][0]["code"] == "province"
    hanoi, hcm = stratifier["stratum"]
    assert hanoi["value"]["coding"][0] == {"system": f"{CS}/vn-province", "code": "01",
                                           "display": "Thành phố Hà Nội"}
    masked = _pop(hcm, "numerator")
    assert "count" not in masked and masked["extension"] == [
        {"url": DATA_ABSENT, "valueCode": "masked"}]
    assert "count" not in _pop(hanoi, "numerator")  # complement: 900 - 897 would give the 3
    assert hcm["measureScore"] == {"extension": [{"url": DATA_ABSENT, "valueCode": "masked"}]}
    assert _pop(hcm, "denominator")["count"] == 1000
    one = _group(report, "people_1plus")["stratifier"][0]["stratum"]
    assert [_pop(s, "numerator")["count"] for s in one] == [1200, 10]


def test_several_dimensions_are_components() -> None:
    query = IndicatorQuery("adverse-events", by=("vaccine", "day"))
    strata = [Cell({"vaccine": "astrazeneca", "day": "2021-08-01"},
                   {"doses": 20000, "events": 30, "serious": 0}),
              Cell({"vaccine": "pfizer", "day": "2021-08-01"},
                   {"doses": 10000, "events": 12, "serious": 0})]
    total = [Cell({}, {"doses": 30000, "events": 42, "serious": 0})]
    report = measure_report(table(AE, query, total, strata), )
    _valid(report)
    events = _group(report, "events")
    assert events["measureScore"]["value"] == pytest.approx(140.0)
    assert events["measureScore"]["code"] == "/10*5"
    first = events["stratifier"][0]["stratum"][0]
    assert [c["code"]["coding"][0]["code"] for c in first["component"]] == ["vaccine", "day"]
    assert first["component"][0]["value"]["coding"][0]["system"] == f"{CS}/vn-covid19-vaccine"
    assert first["component"][1]["value"] == {"text": "2021-08-01"}
    assert first["measureScore"]["value"] == pytest.approx(150.0)
    assert "start" not in report["period"]


def test_csv_rows_per_stratum_masked_cells_empty() -> None:
    query = IndicatorQuery("coverage", by=("group",))
    strata = [Cell({"group": "9"}, {"people_1plus": 50, "people_primary": 40,
                                    "people_booster": 2, "population": 100}),
              Cell({"group": ""}, {"people_1plus": 8, "people_primary": 8,
                                   "people_booster": 6, "population": 0})]
    total = [Cell({}, {"people_1plus": 58, "people_primary": 48, "people_booster": 8,
                       "population": 100})]
    rows = list(csv.reader(io.StringIO(to_csv(table(COVERAGE, query, total, strata)).decode())))
    assert rows[0] == ["group", "people_1plus", "people_primary", "people_booster",
                       "population", "people_1plus_proportion", "people_primary_proportion",
                       "people_booster_proportion"]
    assert rows[1] == ["", "8", "8", "", "0", "", "", ""]
    assert rows[2] == ["9", "50", "40", "", "100", "0.5", "0.4", ""]


def test_csv_defuses_formulas_and_totals_without_strata() -> None:
    verification = BY_OPERATION["dose-verification"]
    query = IndicatorQuery("verification", by=("lot",))
    strata = [Cell({"lot": "=HYPERLINK(1)"}, {"unconfirmed": 9, "disputed": 0})]
    text = to_csv(table(verification, query, [Cell({}, {"unconfirmed": 9, "disputed": 0})],
                        strata)).decode()
    assert "'=HYPERLINK(1)" in text
    plain = to_csv(table(verification, IndicatorQuery("verification"),
                         [Cell({}, {"unconfirmed": 9, "disputed": 0})], [])).decode()
    assert plain.splitlines() == ["unconfirmed,disputed", "9,0"]


@pytest.mark.parametrize("indicator", INDICATORS, ids=lambda i: i.operation)
def test_every_indicator_reports_valid_measure_reports(indicator: Any) -> None:
    counts = dict.fromkeys(indicator.measures(), 7)
    query = IndicatorQuery(indicator.indicator, by=("site",))
    report = measure_report(table(indicator, query, [Cell({}, counts)],
                                  [Cell({"site": "loc-1"}, counts)]))
    _valid(report)
    stratum = report["group"][0]["stratifier"][0]["stratum"][0]
    assert stratum["value"] == {"text": "Location/loc-1"}


def test_open_period_ends_today_in_vietnam() -> None:
    """MeasureReport.period is 1..1: without period-end it ends on today's local date."""
    late = datetime(2021, 8, 31, 20, 0, tzinfo=UTC)  # 03:00 on 1 September in Vietnam
    report = measure_report(table(COVERAGE, IndicatorQuery("coverage"), [], []), late)
    assert report["period"] == {"end": "2021-09-01"}
    assert report["date"] == "2021-08-31T20:00:00+00:00"
    assert _pop(report["group"][0], "numerator")["count"] == 0
