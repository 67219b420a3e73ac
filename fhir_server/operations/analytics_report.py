"""An indicator's cells as a summary MeasureReport (FHIR R4 measurereport.html).

Shape (stable: the dashboard reads it): `status` complete, `type` summary, `measure` the
Measure's canonical URL, `period`, and one `group` per measure of the indicator (group.code: a
vn-campaign-indicator code) with `population[]` (code from measure-population:
initial-population for counts, numerator/denominator for proportions and rates; `count`), a
`measureScore` for proportions (0..1, UCUM "1") and rates (per 100,000, UCUM "/10*5"), and,
when the call is stratified, one `stratifier` whose `code` lists the dimensions and whose
`stratum[]` carry `value` (one dimension) or `component[]` (several), with the same
populations and score. A masked count has no `count` and the data-absent-reason extension
`masked` (analytics_privacy.py); so has a masked score.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from typing import Any

import orjson

from fhir_server.operations.analytics_measures import (
    DIMENSION_DISPLAY,
    INDICATOR_SYSTEM,
    POPULATION_SYSTEM,
    RATE_PER,
    TERMINOLOGY,
    Group,
    Indicator,
)
from fhir_server.operations.analytics_privacy import THRESHOLD, Counts
from fhir_server.terminology.store import DEFAULT_ROOT

DATA_ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
MASKED = [{"url": DATA_ABSENT, "valueCode": "masked"}]
UCUM = "http://unitsofmeasure.org"
VIETNAM = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")  # no daylight saving time
SYSTEMS = {"province": f"{TERMINOLOGY}/vn-province", "commune": f"{TERMINOLOGY}/vn-commune",
           "group": f"{TERMINOLOGY}/vn-covid19-priority-group",
           "vaccine": f"{TERMINOLOGY}/vn-covid19-vaccine"}
_FILES = {"province": "vn-province", "commune": "vn-commune",
          "group": "vn-covid19-priority-group-qd3355", "vaccine": "vn-covid19-vaccine"}


@dataclass(frozen=True)
class Table:
    """What one call reports, after suppression: the total and one row per stratum."""

    indicator: Indicator
    by: tuple[str, ...]
    total: Counts
    rows: list[tuple[dict[str, str], Counts]]
    start: date | None = None
    end: date | None = None
    filters: tuple[tuple[str, str], ...] = ()


@cache
def _displays(dimension: str) -> dict[str, str]:
    raw = (DEFAULT_ROOT / "codesystems" / f"{_FILES[dimension]}.json").read_bytes()
    return {c["code"]: c.get("display", c["code"]) for c in orjson.loads(raw)["concept"]}


def coded_dimension(dimension: str, value: str) -> str | None:
    """The code system of a dimension's value (area: province or commune by its length)."""
    if dimension == "area":
        dimension = "province" if len(value) == 2 else "commune"
    return dimension if dimension in SYSTEMS else None


def stratum_value(dimension: str, value: str) -> dict[str, Any]:
    """A stratum's value: a coding of its code system, else text (dates, lots, sites)."""
    if not value:
        return {"text": "unknown"}
    coded = coded_dimension(dimension, value)
    if coded is None:
        return {"text": f"Location/{value}" if dimension == "site" else value}
    coding = {"system": SYSTEMS[coded], "code": value}
    display = _displays(coded).get(value)
    return {"coding": [{**coding, "display": display} if display else coding]}


def dimension_code(dimension: str) -> dict[str, Any]:
    """The CodeableConcept naming a dimension (stratifier.code, stratum.component.code)."""
    return {"coding": [{"system": INDICATOR_SYSTEM, "code": dimension,
                        "display": DIMENSION_DISPLAY[dimension]}], "text": dimension}


def score(group: Group, counts: Counts) -> float | None:
    """The group's score from shown counts (None: a count group, masked or no denominator)."""
    if group.denominator is None:
        return None
    numerator, denominator = counts.get(group.code), counts.get(group.denominator)
    if numerator is None or not denominator:
        return None
    if group.scoring == "proportion":
        return float(f"{numerator / denominator:.6g}")  # 6 significant digits
    return round(numerator * RATE_PER / denominator, 2)


def _score_element(group: Group, counts: Counts) -> dict[str, Any] | None:
    if group.denominator is None:
        return None
    value = score(group, counts)
    masked = counts.get(group.code) is None or counts.get(group.denominator) is None
    if value is None:
        return {"extension": MASKED} if masked else None
    if group.scoring == "proportion":
        return {"value": value, "unit": "1", "system": UCUM, "code": "1"}
    return {"value": value, "unit": f"per {RATE_PER:,} doses", "system": UCUM, "code": "/10*5"}


def _populations(group: Group, counts: Counts) -> list[dict[str, Any]]:
    out = []
    for code, measure in group.populations():
        element: dict[str, Any] = {"code": {"coding": [{"system": POPULATION_SYSTEM,
                                                        "code": code}], "text": measure}}
        count = counts.get(measure)
        if count is None:
            element["extension"] = MASKED
        else:
            element["count"] = count
        out.append(element)
    return out


def _scored(group: Group, counts: Counts) -> dict[str, Any]:
    element: dict[str, Any] = {"population": _populations(group, counts)}
    if (measure_score := _score_element(group, counts)) is not None:
        element["measureScore"] = measure_score
    return element


def _stratum(group: Group, by: Sequence[str], key: dict[str, str],
             counts: Counts) -> dict[str, Any]:
    if len(by) == 1:
        head: dict[str, Any] = {"value": stratum_value(by[0], key.get(by[0], ""))}
    else:
        head = {"component": [{"code": dimension_code(d), "value": stratum_value(d, key.get(d, ""))}
                              for d in by]}
    return {**head, **_scored(group, counts)}


def _group(table: Table, group: Group) -> dict[str, Any]:
    out: dict[str, Any] = {"code": {"coding": [{"system": INDICATOR_SYSTEM, "code": group.code,
                                                "display": group.display}],
                                    "text": group.display},
                           **_scored(group, table.total)}
    if table.by:
        out["stratifier"] = [{"code": [dimension_code(d) for d in table.by],
                              "stratum": [_stratum(group, table.by, key, counts)
                                          for key, counts in table.rows]}]
    return out


def _narrative(table: Table) -> dict[str, Any]:
    period = f"{table.start or '…'} – {table.end or '…'}"
    filters = ", ".join(f"{name} {value}" for name, value in table.filters) or "none"
    by = ", ".join(table.by) or "none"
    text = (f"<p><b>{html.escape(table.indicator.title)}</b>, {html.escape(period)}. "
            f"Filters: {html.escape(filters)}. Stratified by: {html.escape(by)}.</p>"
            f"<p>Counts of 1 to {THRESHOLD - 1} are masked (data-absent-reason masked), with "
            "complementary cells so that no masked count can be recovered by subtraction.</p>")
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{text}</div>'}


def measure_report(table: Table, now: datetime | None = None) -> dict[str, Any]:
    """The summary MeasureReport of one indicator table."""
    period: dict[str, str] = {}
    if table.start is not None:
        period["start"] = table.start.isoformat()
    moment = now or datetime.now(UTC)
    period["end"] = (table.end or moment.astimezone(VIETNAM).date()).isoformat()
    return {"resourceType": "MeasureReport", "text": _narrative(table), "status": "complete",
            "type": "summary", "measure": table.indicator.measure_url,
            "date": moment.isoformat(timespec="seconds"),
            "period": period,
            "group": [_group(table, group) for group in table.indicator.groups]}
