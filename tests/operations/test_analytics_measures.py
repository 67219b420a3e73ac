"""The indicator catalogue (operations/analytics_measures.py) against the engine's interface and
the generated Measures it reports on (R4 measure.html: Measure.group.code,
group.population.code from measure-population, group.stratifier.code; measurereport.html:
MeasureReport.measure is the Measure's canonical URL)."""

from __future__ import annotations

import json

from fhir.resources.R4B import get_fhir_model_class

from fhir_server.analytics.query import DIMENSIONS, DIMENSIONS_OF, INDICATORS, MEASURES
from fhir_server.conformance import PROFILES_ROOT
from fhir_server.operations.analytics_measures import BY_OPERATION, DIMENSION_DISPLAY
from fhir_server.operations.analytics_measures import INDICATORS as CATALOGUE


def test_catalogue_covers_the_engine() -> None:
    assert sorted(i.indicator for i in CATALOGUE) == sorted(INDICATORS)
    for indicator in CATALOGUE:
        assert set(indicator.measures()) == set(MEASURES[indicator.indicator])
    assert set(DIMENSION_DISPLAY) == set(DIMENSIONS)
    assert set(BY_OPERATION) == {"vaccination-coverage", "doses-administered",
                                 "registration-backlog", "adverse-event-rates",
                                 "dose-verification"}


def test_generated_measures_match_the_catalogue() -> None:
    system = json.loads((PROFILES_ROOT / "measures" / "vn-campaign-indicator.json").read_bytes())
    known = {c["code"] for parent in system["concept"] for c in parent["concept"]}
    for indicator in CATALOGUE:
        measure = json.loads((PROFILES_ROOT / "measures" / f"{indicator.measure_id}.json"
                              ).read_bytes())
        get_fhir_model_class("Measure").model_validate(measure)
        assert measure["url"] == indicator.measure_url
        groups = [g["code"]["coding"][0]["code"] for g in measure["group"]]
        assert groups == [g.code for g in indicator.groups] and set(groups) <= known
        for group, spec in zip(measure["group"], indicator.groups, strict=True):
            assert [p["code"]["coding"][0]["code"] for p in group["population"]] == [
                code for code, _ in spec.populations()]
            assert [s["code"]["coding"][0]["code"] for s in group["stratifier"]] == list(
                DIMENSIONS_OF[indicator.indicator])
