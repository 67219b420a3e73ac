"""The campaign indicators as FHIR Measures (R4 measure.html): one operation per indicator, each
reporting on one Measure whose groups are the indicator's measures.

The single source for the operations (analytics.py), their MeasureReports
(analytics_report.py), CSV columns (analytics_csv.py) and the Measure and CodeSystem resources
that profiles/scripts/measures.py writes into profiles/measures/.

Scoring per group: `count` (one population, initial-population: how many), `proportion`
(numerator / denominator: coverage, score 0..1) and `rate` (numerator per 100,000 of the
denominator: adverse events per 100,000 doses).
"""

from __future__ import annotations

from dataclasses import dataclass

BASE = "https://fhir.moh.gov.vn/fhir"
TERMINOLOGY = "https://fhir.moh.gov.vn/terminology/CodeSystem"
MEASURE_BASE = f"{BASE}/Measure"
INDICATOR_SYSTEM = f"{TERMINOLOGY}/vn-campaign-indicator"  # measure and dimension codes
POPULATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/measure-population"
SCORING_SYSTEM = "http://terminology.hl7.org/CodeSystem/measure-scoring"
RATE_PER = 100_000


@dataclass(frozen=True)
class Group:
    """One Measure.group: a measure of the indicator, its populations and score."""

    code: str                       # the engine's measure name (Cell.counts key)
    display: str
    scoring: str = "count"          # count | proportion | rate
    denominator: str | None = None  # the engine measure that divides it (proportion, rate)

    def populations(self) -> tuple[tuple[str, str], ...]:
        """(measure-population code, engine measure) of this group, in report order."""
        if self.denominator is None:
            return (("initial-population", self.code),)
        return (("numerator", self.code), ("denominator", self.denominator))


@dataclass(frozen=True)
class Indicator:
    """One operation, the engine indicator it runs and the Measure it reports on."""

    operation: str
    indicator: str                  # IndicatorQuery.indicator
    measure_id: str
    title: str
    description: str
    scoring: str                    # Measure.scoring (measure-scoring)
    groups: tuple[Group, ...]

    @property
    def measure_url(self) -> str:
        """The canonical URL of the Measure (MeasureReport.measure)."""
        return f"{MEASURE_BASE}/{self.measure_id}"

    def measures(self) -> tuple[str, ...]:
        """The engine measures the report shows (CSV count columns): each group's own measure,
        then the denominators, each once."""
        out = [group.code for group in self.groups]
        for group in self.groups:
            if group.denominator is not None and group.denominator not in out:
                out.append(group.denominator)
        return tuple(out)


INDICATORS: tuple[Indicator, ...] = (
    Indicator("doses-administered", "doses", "vn-doses-administered",
              "Doses administered",
              "Completed COVID-19 vaccine doses (Immunization status completed) given in the "
              "period, by the local date of occurrence.", "cohort",
              (Group("doses", "Doses administered"),)),
    Indicator("vaccination-coverage", "coverage", "vn-vaccination-coverage",
              "Vaccination coverage",
              "People with at least one dose, a full primary series and a booster, against the "
              "population of their area and priority group (the denominator file).",
              "proportion",
              (Group("people_1plus", "People with at least one dose", "proportion",
                     "population"),
               Group("people_primary", "People with a full primary series", "proportion",
                     "population"),
               Group("people_booster", "People with a booster dose", "proportion",
                     "population"))),
    Indicator("registration-backlog", "planning", "vn-registration-backlog",
              "Registered, not yet vaccinated",
              "People with a vaccination registration (vn-priority-group Appointment, not "
              "cancelled) and no completed dose: the planning list, by area, group and "
              "registration date.", "cohort",
              (Group("registered_unvaccinated", "Registered people not yet vaccinated"),)),
    Indicator("adverse-event-rates", "adverse-events", "vn-adverse-event-rates",
              "Adverse events per 100,000 doses",
              "Post-vaccination adverse events (all, and serious ones) per 100,000 completed "
              "doses, attributed to the suspect dose's vaccine, lot, site and date.", "ratio",
              (Group("events", "Adverse events per 100,000 doses", "rate", "doses"),
               Group("serious", "Serious adverse events per 100,000 doses", "rate",
                     "doses"))),
    Indicator("dose-verification", "verification", "vn-dose-verification",
              "Unconfirmed and disputed doses",
              "Completed doses no site has confirmed, and doses under dispute, by the site "
              "that recorded them.", "cohort",
              (Group("unconfirmed", "Doses not confirmed by a site"),
               Group("disputed", "Doses under dispute"))),
)
BY_OPERATION = {indicator.operation: indicator for indicator in INDICATORS}

DIMENSION_DISPLAY = {
    "area": "Area (the level below the area filter: provinces, or a province's communes)",
    "province": "Province (2025 units)", "commune": "Commune (2025 units)",
    "group": "Priority group (QĐ 3355/QĐ-BYT)", "vaccine": "Vaccine", "lot": "Lot number",
    "site": "Vaccination site (Location)", "day": "Day (local date)",
    "week": "ISO week (YYYY-Www)", "month": "Month (YYYY-MM)"}
