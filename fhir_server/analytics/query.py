"""The indicator interface (issue 15 point 1): what a caller asks (IndicatorQuery), what it gets
(a list of Cell), and the checks of a query (validate). indicators.compute answers it.

Indicators and their measures (`Cell.counts`):

- ``doses``: ``doses`` — completed Immunizations (status ``completed``; entered-in-error and
  not-done ones do not count), dated by occurrenceDateTime (local date, Asia/Ho_Chi_Minh).
- ``coverage``: ``people_1plus`` (people with ≥ 1 completed dose), ``people_primary`` (people
  whose completed doses reach the primary series of their first vaccine:
  protocolApplied.seriesDosesPositiveInt, else the vaccine's series-doses), ``people_booster``
  (people with a completed dose beyond that series), ``population`` (the denominator from the
  population file for the cell's area and group, 0 when unknown or when the cell is stratified
  by a dimension the file does not have: vaccine, site, time). A person counts in the cell of the
  dose that reached the milestone (its day, vaccine and site) and in their own area and group;
  the period keeps the people who reached it within the period (no start: from the beginning).
- ``planning``: ``registered_unvaccinated`` — people with a registration (an Appointment with
  the vn-priority-group extension, not cancelled / entered-in-error) and no completed dose,
  stratified by their area, their group and the registration day.
- ``adverse-events``: ``doses``, ``events`` (AdverseEvents whose suspectEntity is a dose),
  ``serious`` (seriousness ``serious``/``severe``), attributed to the suspect dose's vaccine,
  lot, site, day and the person's area and group; indicators.serious_events lists the serious
  events (no subject). The rate per 100,000 doses is left to the caller.
- ``verification``: ``unconfirmed`` (completed doses no site has confirmed) and ``disputed``
  (completed doses with a dispute), by the dose's site, vaccine, day and the person's area/group.

Dimensions: ``area`` is the level below the ``area`` filter (no filter: province; a province:
its communes; a commune: that commune); ``province``/``commune`` are 2025 codes; ``group`` a
vn-priority-group code ("" when unknown); ``vaccine`` a vn-covid19-vaccine code; ``lot`` the
lotNumber; ``site`` the Location id ("" when none); ``day`` YYYY-MM-DD, ``week`` ISO YYYY-Www,
``month`` YYYY-MM (local dates).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fhir_server.analytics.areas import codes, resolve_area
from fhir_server.errors import InvalidRequest

DIMENSIONS = ("area", "province", "commune", "group", "vaccine", "lot", "site", "day", "week",
              "month")
INDICATORS = ("doses", "coverage", "planning", "adverse-events", "verification")
MEASURES: dict[str, tuple[str, ...]] = {
    "doses": ("doses",),
    "coverage": ("people_1plus", "people_primary", "people_booster", "population"),
    "planning": ("registered_unvaccinated",),
    "adverse-events": ("doses", "events", "serious"),
    "verification": ("unconfirmed", "disputed"),
}
_PLACES = ("area", "province", "commune", "group", "site", "day", "week", "month")
DIMENSIONS_OF: dict[str, tuple[str, ...]] = {
    "doses": DIMENSIONS,
    "coverage": (*_PLACES, "vaccine"),
    "planning": _PLACES,
    "adverse-events": DIMENSIONS,
    "verification": DIMENSIONS,
}


@dataclass(frozen=True)
class IndicatorQuery:
    """One indicator over a period, optionally filtered and stratified."""

    indicator: str                 # one of INDICATORS
    start: date | None = None      # inclusive, local date Asia/Ho_Chi_Minh
    end: date | None = None        # inclusive
    area: str | None = None        # 2025 province (2 digits) or commune (5 digits); legacy mapped
    group: str | None = None       # vn-priority-group code
    vaccine: str | None = None     # vaccine code as in Immunization.vaccineCode
    by: tuple[str, ...] = ()       # stratify by these DIMENSIONS


@dataclass(frozen=True)
class Cell:
    """One stratum: its key (dimension -> value, one per query.by) and its measures."""

    key: dict[str, str]
    counts: dict[str, int]


@dataclass(frozen=True)
class SeriousEvent:
    """One serious adverse event as listed for the authorities (no subject)."""

    id: str                        # AdverseEvent id
    event: str                     # AdverseEvent.event code (vn-post-vaccination-reaction)
    vaccine: str                   # the suspect dose's vaccine code ("" when unknown)
    lot: str                       # its lotNumber ("" when none)
    date: str                      # AdverseEvent.date, local date YYYY-MM-DD
    site: str                      # the suspect dose's Location id ("" when none)


def validate(query: IndicatorQuery) -> None:
    """Raise InvalidRequest for an unknown indicator, code or dimension or an inverted period."""
    if query.indicator not in INDICATORS:
        raise InvalidRequest.at(f"Unknown indicator '{query.indicator}' (one of "
                                f"{', '.join(INDICATORS)})", "indicator", "not-supported")
    if query.start and query.end and query.start > query.end:
        raise InvalidRequest.at(f"The period starts ({query.start}) after it ends "
                                f"({query.end})", "end", "value")
    if query.area is not None and resolve_area(query.area) is None:
        raise InvalidRequest.at(f"Unknown area code '{query.area}' (a 2025 province or commune "
                                "code, or a legacy one)", "area", "code-invalid")
    if query.group is not None and query.group not in codes().groups:
        raise InvalidRequest.at(f"Unknown priority group '{query.group}' (QĐ 3355 groups 1-16)",
                                "group", "code-invalid")
    if query.vaccine is not None and query.vaccine not in codes().vaccines:
        raise InvalidRequest.at(f"Unknown vaccine code '{query.vaccine}' (vn-covid19-vaccine)",
                                "vaccine", "code-invalid")
    allowed = DIMENSIONS_OF[query.indicator]
    for dimension in query.by:
        if dimension not in allowed:
            raise InvalidRequest.at(f"Indicator '{query.indicator}' cannot be stratified by "
                                    f"'{dimension}' (one of {', '.join(allowed)})", "by",
                                    "not-supported")
    if len(set(query.by)) != len(query.by):
        raise InvalidRequest.at("A dimension is repeated in 'by'", "by", "value")
