"""End to end: a synthetic campaign (fhir_server/synthetic, as `fhir-server seed --people`)
written through the Repository, its indicators computed by the engine (fhir_server/analytics)
and read over HTTP by an analyst as MeasureReports and CSV (R4 measurereport.html,
operations.html), each figure checked against the stored resources counted another way: the
server's own searches, chained by the person's province (search.html#chaining)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from flask import Flask

from fhir_server.auth.principal import INTERNAL_PRINCIPAL, acting_as
from fhir_server.interactions import crud
from fhir_server.interactions.context import Services
from fhir_server.synthetic.writer import SeedOptions, seed_campaign
from tests.api.auth_helpers import staff_headers

PERIOD = "period-start=2021-01-01&period-end=2021-12-31"


class Campaign:
    """The seeded app, the server's own view of it, and an analyst's headers."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.svc: Services = app.extensions["fhir"].internal()
        with acting_as(INTERNAL_PRINCIPAL):
            self.report = seed_campaign(self.svc, SeedOptions(
                people=120, seed_number=15, days=300, progress=False, reaction_rate=0.25,
                today=date(2021, 12, 31)))
            reaction = self.resources("AdverseEvent", [])[0]  # and one serious reaction
            serious = {k: v for k, v in reaction.items() if k not in ("id", "meta")}
            serious["seriousness"] = {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness",
                "code": "serious"}]}
            crud.create(self.svc, "AdverseEvent", serious)
        self.analyst = staff_headers(app, "analyst")

    def resources(self, type_name: str, query: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """Every stored resource a search matches (as the server)."""
        with acting_as(INTERNAL_PRINCIPAL):
            criteria = self.svc.search.criteria_for(type_name, query)
            return [v.resource for v in self.svc.store.find(type_name, criteria) if v.resource]

    def run(self, operation: str, query: str) -> Any:
        """An analyst's call of an indicator operation."""
        answer = self.app.test_client().get(f"/MeasureReport/${operation}?{query}",
                                            headers=self.analyst)
        assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
        return answer


@pytest.fixture(scope="module")
def campaign(make_app: Callable[..., Flask]) -> Campaign:
    return Campaign(make_app(auth_required=True))


def _group(report: dict[str, Any], code: str) -> dict[str, Any]:
    return next(g for g in report["group"] if g["code"]["coding"][0]["code"] == code)


def _count(element: dict[str, Any], code: str) -> int | None:
    return next(p for p in element["population"]
                if p["code"]["coding"][0]["code"] == code).get("count")


def _completed(campaign: Campaign, *extra: tuple[str, str]) -> list[dict[str, Any]]:
    return campaign.resources("Immunization", [("status", "completed"),
                                               ("date", "ge2021-01-01"), *extra])


def test_doses_by_province_match_the_chained_search(campaign: Campaign) -> None:
    report = campaign.run("doses-administered", f"{PERIOD}&stratify-by=province").get_json()
    get_fhir_model_class("MeasureReport").model_validate(report)
    doses = _group(report, "doses")
    assert _count(doses, "initial-population") == len(_completed(campaign)) > 0
    strata = doses["stratifier"][0]["stratum"]
    assert len(strata) > 1
    masked = 0
    for stratum in strata:
        code = stratum["value"]["coding"][0]["code"]
        expected = len(_completed(campaign, ("patient.province", code)))
        shown = _count(stratum, "initial-population")
        if shown is None:
            masked += 1
        else:
            assert shown == expected, code
        assert expected > 0
    assert masked != 1  # a lone masked stratum would be total - the others


def test_coverage_counts_people_and_scores_against_the_population(campaign: Campaign) -> None:
    report = campaign.run("vaccination-coverage", f"{PERIOD}&stratify-by=province").get_json()
    get_fhir_model_class("MeasureReport").model_validate(report)
    one = _group(report, "people_1plus")
    people = {d["patient"]["reference"] for d in _completed(campaign)}
    assert _count(one, "numerator") == len(people)
    denominator = _count(one, "denominator")
    assert denominator is not None and denominator > len(people)
    assert one["measureScore"]["value"] == pytest.approx(len(people) / denominator, rel=1e-5)
    primary = _count(_group(report, "people_primary"), "numerator")
    assert primary is not None and primary <= len(people)
    for stratum in one["stratifier"][0]["stratum"]:
        if _count(stratum, "numerator") is not None:
            assert stratum["measureScore"]["value"] == pytest.approx(
                _count(stratum, "numerator") / _count(stratum, "denominator"), rel=1e-5)


def test_registration_backlog_is_registered_people_without_a_dose(campaign: Campaign) -> None:
    report = campaign.run("registration-backlog", "").get_json()
    waiting = _count(_group(report, "registered_unvaccinated"), "initial-population")
    registered = {p["actor"]["reference"] for a in campaign.resources("Appointment", [])
                  if a["status"] not in ("cancelled", "entered-in-error")
                  for p in a.get("participant", []) if "Patient/" in p["actor"]["reference"]}
    vaccinated = {d["patient"]["reference"] for d in campaign.resources(
        "Immunization", [("status", "completed")])}
    expected = len(registered - vaccinated)
    assert waiting == (expected if expected == 0 or expected >= 5 else None)


def test_adverse_event_rates_and_serious_list(campaign: Campaign) -> None:
    report = campaign.run("adverse-event-rates", f"{PERIOD}&stratify-by=vaccine").get_json()
    events = _group(report, "events")
    stored = campaign.resources("AdverseEvent", [])
    doses = len(_completed(campaign))
    assert _count(events, "denominator") == doses
    assert len(stored) >= 5  # reaction_rate 0.25: shown, not masked
    assert _count(events, "numerator") == len(stored)
    assert events["measureScore"]["value"] == pytest.approx(len(stored) * 1e5 / doses, abs=0.01)
    serious = [e for e in stored if e["seriousness"]["coding"][0]["code"] == "serious"]
    listing = campaign.app.test_client().get(f"/AdverseEvent/$serious-events?{PERIOD}",
                                             headers=campaign.analyst).get_json()
    assert listing["parameter"][0]["valueInteger"] == len(serious) > 0
    assert _count(_group(report, "serious"), "numerator") is None  # under 5: masked
    assert "Patient/" not in str(listing)
    dates = [next(p["valueDate"] for p in e["part"] if p["name"] == "date")
             for e in listing["parameter"][1:]]
    assert sorted(dates) == sorted(e["date"][:10] for e in serious)


def test_csv_by_day_matches_the_report(campaign: Campaign) -> None:
    query = f"{PERIOD}&stratify-by=month"
    report = campaign.run("doses-administered", query).get_json()
    strata = _group(report, "doses")["stratifier"][0]["stratum"]
    rows = list(csv.reader(io.StringIO(
        campaign.run("doses-administered", f"{query}&_format=csv").get_data(as_text=True))))
    assert rows[0] == ["month", "doses"]
    assert [(r[0], r[1]) for r in rows[1:]] == [
        (s["value"]["text"], str(c) if (c := _count(s, "initial-population")) is not None else "")
        for s in strata]
    by_month = Counter(d["occurrenceDateTime"][:7] for d in _completed(campaign))
    for month, shown in rows[1:]:
        assert shown == "" or int(shown) == by_month[month]


def test_analyst_still_cannot_read_records(campaign: Campaign) -> None:
    client = campaign.app.test_client()
    for url in ("/Immunization?patient.province=01", "/Patient", "/AdverseEvent"):
        assert client.get(url, headers=campaign.analyst).status_code == 403
