"""The campaign indicators as FHIR operations (issue 15 point 2; R4 operations.html,
measurereport.html): type-level operations on MeasureReport, GET or POST (Parameters), each
answering a summary MeasureReport on its Measure (profiles/measures/), or CSV.

    MeasureReport/$doses-administered     doses          (Measure vn-doses-administered)
    MeasureReport/$vaccination-coverage   coverage       (vn-vaccination-coverage)
    MeasureReport/$registration-backlog   planning list  (vn-registration-backlog)
    MeasureReport/$adverse-event-rates    AE per 100,000 (vn-adverse-event-rates)
    MeasureReport/$dose-verification      per site       (vn-dose-verification)

Inputs: analytics_inputs.py. Output: analytics_report.py (MeasureReport) or analytics_csv.py
(`_format=csv` or `Accept: text/csv`), small cells masked by analytics_privacy.py. Who: the
Repository's `aggregate` door (staff and system clients who may search MeasureReport: analysts,
practitioners, admins; citizens 403), one AuditEvent per call; the engine
(fhir_server/analytics) reads the database through that Repository, and no resource leaves.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fhir_server.analytics import indicators
from fhir_server.analytics.query import DIMENSIONS_OF, Cell, IndicatorQuery
from fhir_server.errors import InvalidRequest
from fhir_server.interactions.context import Services
from fhir_server.operations.analytics_csv import to_csv
from fhir_server.operations.analytics_inputs import filters, indicator_query
from fhir_server.operations.analytics_measures import INDICATORS, Indicator
from fhir_server.operations.analytics_privacy import suppress
from fhir_server.operations.analytics_report import Table, measure_report
from fhir_server.operations.registry import (
    Handler,
    OperationCall,
    OperationDefinition,
    OperationResult,
    register,
)

CSV = "text/csv"
TYPE = "MeasureReport"
MAX_STRATA = 20_000  # strata one answer may hold (e.g. 34 provinces x 365 days = 12,410)
READS = {"doses": ("Immunization", "Patient"), "coverage": ("Immunization", "Patient"),
         "planning": ("Appointment", "Immunization", "Patient"),
         "adverse-events": ("AdverseEvent", "Immunization", "Patient"),
         "verification": ("Immunization", "Patient")}


def _parameter(name: str, kind: str, most: str, documentation: str,
               use: str = "in", least: int = 0) -> dict[str, Any]:
    return {"name": name, "use": use, "min": least, "max": most, "type": kind,
            "documentation": documentation}


def parameters(indicator: Indicator) -> tuple[dict[str, Any], ...]:
    """OperationDefinition.parameter of one indicator operation."""
    return (
        _parameter("period-start", "date", "1", "First day of the period (inclusive, local "
                   "date); none: from the beginning"),
        _parameter("period-end", "date", "1", "Last day of the period (inclusive); none: to "
                   "today"),
        _parameter("area", "string", "1", "A 2025 province (2 digits) or commune (5 digits) "
                   "code, or a legacy one (mapped); system|code accepted"),
        _parameter("group", "string", "1", "A priority group code (QĐ 3355/QĐ-BYT, "
                   "vn-covid19-priority-group)"),
        _parameter("vaccine", "string", "1", "A vaccine code (vn-covid19-vaccine)"),
        _parameter("stratify-by", "code", "*", "Dimensions to stratify by (repeat or comma "
                   f"list): {', '.join(DIMENSIONS_OF[indicator.indicator])}"),
        _parameter("return", "MeasureReport", "1", "A summary MeasureReport on "
                   f"{indicator.measure_url}; counts of 1 to 4 masked (data-absent-reason "
                   "masked). `_format=csv` or Accept text/csv: CSV instead", "out", 1))


def _counts(cells: list[Cell]) -> dict[str, int]:
    """The counts of an unstratified answer (one cell; none: all zero)."""
    return dict(cells[0].counts) if cells else {}


def table(indicator: Indicator, query: IndicatorQuery, total: list[Cell],
          strata: list[Cell]) -> Table:
    """The suppressed table of one call (total and strata from the engine)."""
    rows = sorted(((cell.key, cell.counts) for cell in strata),
                  key=lambda row: tuple(row[0].get(d, "") for d in query.by))
    shown_total, shown = suppress(_counts(total), rows, query.by, indicator.measures())
    return Table(indicator, query.by, shown_total, [(key, counts) for (key, _), counts
                                                    in zip(rows, shown, strict=True)],
                 query.start, query.end, filters(query))


def _compute(source: Any, query: IndicatorQuery) -> list[Cell]:
    return indicators.compute(source, query)


def describe(call: OperationCall) -> str:
    """What was asked, as sent (audited before the inputs are checked; a malformed body is
    described by its query string alone)."""
    sent = call.body.get("parameter", []) if isinstance(call.body, dict) else []
    readable = isinstance(sent, list) and all(isinstance(p, dict) for p in sent)
    pairs = call.parameters() if readable else list(call.query)
    asked = " ".join(f"{name}={str(value)[:80]}" for name, value in pairs[:20])
    return f"${call.name} {asked}".strip()


def handler(indicator: Indicator) -> Handler:
    """The handler of one indicator operation."""
    def run(svc: Services, call: OperationCall) -> OperationResult:
        parsed: list[IndicatorQuery] = []

        def queries() -> list[IndicatorQuery]:
            parsed.append(indicator_query(indicator, call))
            return [replace(parsed[0], by=())] + ([parsed[0]] if parsed[0].by else [])
        answers = svc.store.aggregate(READS[indicator.indicator], describe(call), queries,
                                      _compute)
        query = parsed[0]
        if query.by and len(answers[1]) > MAX_STRATA:
            raise InvalidRequest.at(f"{len(answers[1])} strata: more than {MAX_STRATA}; narrow "
                                    "the period, area or stratify-by", "stratify-by",
                                    "too-costly")
        result = table(indicator, query, answers[0], answers[1] if query.by else [])
        if call.media == CSV:
            name = f"{indicator.operation}.csv"
            return OperationResult(raw=to_csv(result), content_type="text/csv; charset=utf-8",
                                   headers={"Content-Disposition":
                                            f'attachment; filename="{name}"'})
        return OperationResult(measure_report(result))
    run.__doc__ = f"MeasureReport/${indicator.operation}."
    return run


for _indicator in INDICATORS:
    register(OperationDefinition(
        name=_indicator.operation, handler=handler(_indicator), types=(TYPE,), type_level=True,
        methods=("GET", "POST"), parameters=parameters(_indicator), formats=(CSV,),
        documentation=f"{_indicator.title}: a summary MeasureReport on "
                      f"{_indicator.measure_url} (or CSV), stratified by "
                      f"{', '.join(DIMENSIONS_OF[_indicator.indicator])}; aggregates only, "
                      "counts of 1-4 masked"))
