"""The campaign indicators' Measures (R4 measure.html) and the CodeSystem naming their groups and
stratifier dimensions, made from fhir_server/operations/analytics_measures.py (the catalogue
the operations report with), so a MeasureReport's `measure`, group and stratifier codes resolve
to what is served."""

from __future__ import annotations

from typing import Any

from common import common

from fhir_server.analytics.query import DIMENSIONS, DIMENSIONS_OF
from fhir_server.operations.analytics_measures import (
    DIMENSION_DISPLAY,
    INDICATOR_SYSTEM,
    INDICATORS,
    POPULATION_SYSTEM,
    SCORING_SYSTEM,
    Indicator,
)

CODE_SYSTEM_ID = "vn-campaign-indicator"
SUPPRESSION = ("Counts of 1 to 4 are masked (data-absent-reason masked) with complementary "
               "cells, so that no masked count can be recovered by subtraction; the "
               "population denominator is not masked.")


def _concept(code: str, display: str) -> dict[str, Any]:
    return {"code": code, "display": display}


def indicator_code_system() -> dict[str, Any]:
    """CodeSystem vn-campaign-indicator: the measures (group codes) and the dimensions."""
    measures: dict[str, str] = {}
    for indicator in INDICATORS:
        for group in indicator.groups:
            measures.setdefault(group.code, group.display)
    measures.setdefault("doses", "Doses administered")
    measures.setdefault("population", "Population (denominator file)")
    concepts = [
        {**_concept("measure", "Indicator measures"),
         "concept": [_concept(code, display) for code, display in measures.items()]},
        {**_concept("dimension", "Stratifier dimensions"),
         "concept": [_concept(d, DIMENSION_DISPLAY[d]) for d in DIMENSIONS]}]
    return {"resourceType": "CodeSystem", "id": CODE_SYSTEM_ID, "url": INDICATOR_SYSTEM,
            "name": "VnCampaignIndicator", "title": "Campaign indicator measures and dimensions",
            **common(), "description": "The group codes of the campaign indicator Measures and "
                                       "the dimensions their reports are stratified by.",
            "caseSensitive": True, "hierarchyMeaning": "grouped-by", "content": "complete",
            "count": len(measures) + len(DIMENSIONS) + 2, "concept": concepts}


def _code(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": system, "code": code}
    return {"coding": [{**coding, "display": display} if display else coding]}


def measure(indicator: Indicator) -> dict[str, Any]:
    """The Measure an indicator operation reports on."""
    groups = []
    for group in indicator.groups:
        groups.append({
            "code": _code(INDICATOR_SYSTEM, group.code, group.display),
            "description": group.display,
            "population": [{"code": _code(POPULATION_SYSTEM, code),
                            "description": f"{code}: {measure_name}",
                            "criteria": {"language": "text/plain",
                                         "expression": measure_name}}
                           for code, measure_name in group.populations()],
            "stratifier": [{"code": _code(INDICATOR_SYSTEM, d, DIMENSION_DISPLAY[d]),
                            "criteria": {"language": "text/plain", "expression": d}}
                           for d in DIMENSIONS_OF[indicator.indicator]]})
    return {"resourceType": "Measure", "id": indicator.measure_id, "url": indicator.measure_url,
            "name": "".join(w.title() for w in indicator.measure_id.split("-")),
            "title": indicator.title, **common(), "description": indicator.description,
            "purpose": "Campaign follow-up by target group, area and time (issue 15).",
            "usage": f"Run MeasureReport/${indicator.operation}. {SUPPRESSION}",
            "scoring": _code(SCORING_SYSTEM, indicator.scoring),
            "type": [_code("http://terminology.hl7.org/CodeSystem/measure-type",
                           "outcome" if indicator.indicator == "adverse-events" else "process")],
            "improvementNotation": _code(
                "http://terminology.hl7.org/CodeSystem/measure-improvement-notation",
                "decrease" if indicator.indicator in ("planning", "adverse-events",
                                                      "verification") else "increase"),
            "group": groups}


def all_measures() -> list[dict[str, Any]]:
    """Every generated Measure, and the CodeSystem of their codes."""
    return [indicator_code_system(), *(measure(i) for i in INDICATORS)]
