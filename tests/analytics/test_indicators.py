"""indicators.compute over a seeded campaign equals an independent tally of the stored
resources (issue 15 point 1: doses; people with >= 1 dose, a full primary series, a booster;
by vaccine, group, province, day/week/month; coverage against the population file; the
planning list; adverse events by vaccine and lot, serious ones listed; unconfirmed doses)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from fhir_server.analytics.facts import local_day, week_of
from fhir_server.analytics.indicators import choose_cube, compute, serious_events
from fhir_server.analytics.population import population
from fhir_server.analytics.query import IndicatorQuery
from fhir_server.interactions.context import Services
from tests.analytics.conftest import stored, tally


def counts(svc: Services, measure: str, **query: Any) -> dict[tuple[str, ...], int]:
    """One measure per stratum (key values in `by` order), zeros left out."""
    cells = compute(svc.store, IndicatorQuery(**query))
    return {tuple(c.key.values()): c.counts[measure] for c in cells if c.counts[measure]}


def test_doses_total_and_by_each_time_unit(campaign: Services) -> None:
    oracle = tally(campaign)
    assert counts(campaign, "doses", indicator="doses") == {(): len(oracle.doses)}
    day = oracle.doses_by(lambda d: local_day(d["occurrenceDateTime"]))
    assert counts(campaign, "doses", indicator="doses", by=("day",)) == {
        (k,): n for k, n in day.items()}
    assert counts(campaign, "doses", indicator="doses", by=("month",)) == {
        (k,): n for k, n in oracle.doses_by(
            lambda d: local_day(d["occurrenceDateTime"])[:7]).items()}
    assert counts(campaign, "doses", indicator="doses", by=("week",)) == {
        (k,): n for k, n in oracle.doses_by(
            lambda d: week_of(local_day(d["occurrenceDateTime"]))).items()}


def test_doses_by_vaccine_lot_site_province_group(campaign: Services) -> None:
    oracle = tally(campaign)

    def patient(dose: dict[str, Any]) -> str:
        return str(dose["patient"]["reference"]).split("/")[1]
    expected = Counter((d["vaccineCode"]["coding"][0]["code"], d["lotNumber"],
                        d["location"]["reference"].split("/")[1],
                        oracle.province[patient(d)], oracle.group.get(patient(d), ""))
                       for d in oracle.doses)
    assert counts(campaign, "doses", indicator="doses",
                  by=("vaccine", "lot", "site", "province", "group")) == dict(expected)


def test_coverage_counts_people_by_milestone(campaign: Services) -> None:
    oracle = tally(campaign)
    [cell] = compute(campaign.store, IndicatorQuery("coverage"))
    assert cell.counts["people_1plus"] == oracle.people_with(lambda n, s: n >= 1)
    assert cell.counts["people_primary"] == oracle.people_with(lambda n, s: n >= s)
    assert cell.counts["people_booster"] == oracle.people_with(lambda n, s: n > s)
    assert cell.counts["population"] == population().of(None, None) > 100_000_000


def test_coverage_by_province_has_each_province_denominator(campaign: Services) -> None:
    oracle = tally(campaign)
    vaccinated = {str(d["patient"]["reference"]).split("/")[1] for d in oracle.doses}
    expected = Counter(oracle.province[p] for p in vaccinated)
    cells = compute(campaign.store, IndicatorQuery("coverage", by=("province",)))
    assert {c.key["province"]: c.counts["people_1plus"] for c in cells} == dict(expected)
    assert all(c.counts["population"] == population().of((c.key["province"],), None)
               for c in cells)


def test_area_filter_gives_communes_and_group_filter(campaign: Services) -> None:
    oracle = tally(campaign)
    province = Counter(oracle.province.values()).most_common(1)[0][0]
    mine = [d for d in oracle.doses
            if oracle.province[str(d["patient"]["reference"]).split("/")[1]] == province]
    total = counts(campaign, "doses", indicator="doses", area=province)
    assert total == {(): len(mine)}
    by_commune = counts(campaign, "doses", indicator="doses", area=province, by=("area",))
    assert sum(by_commune.values()) == len(mine)
    assert all(len(key[0]) == 5 for key in by_commune)
    group = Counter(oracle.group.values()).most_common(1)[0][0]
    assert counts(campaign, "doses", indicator="doses", group=group) == {(): sum(
        1 for d in oracle.doses
        if oracle.group.get(str(d["patient"]["reference"]).split("/")[1]) == group)}


def test_period_and_vaccine_filters(campaign: Services) -> None:
    oracle = tally(campaign)
    start, end = date(2022, 1, 1), date(2022, 3, 31)
    inside = [d for d in oracle.doses
              if start.isoformat() <= local_day(d["occurrenceDateTime"]) <= end.isoformat()]
    assert counts(campaign, "doses", indicator="doses", start=start, end=end) == {
        (): len(inside)}
    vaccine = oracle.doses[0]["vaccineCode"]["coding"][0]["code"]
    assert counts(campaign, "doses", indicator="doses", vaccine=vaccine, start=start,
                  end=end) == ({(): n} if (n := sum(
                      1 for d in inside if d["vaccineCode"]["coding"][0]["code"] == vaccine))
                      else {})


def test_planning_lists_registered_people_without_a_dose(campaign: Services) -> None:
    oracle = tally(campaign)
    vaccinated = {str(d["patient"]["reference"]).split("/")[1] for d in oracle.doses}
    waiting = oracle.registered - vaccinated
    assert waiting, "the seeded campaign has people waiting"
    expected = Counter(oracle.group[p] for p in waiting)
    assert counts(campaign, "registered_unvaccinated", indicator="planning",
                  by=("group",)) == {(g,): n for g, n in expected.items()}


def test_adverse_events_by_vaccine_and_lot_and_serious_listing(campaign: Services) -> None:
    oracle = tally(campaign)
    doses = {d["id"]: d for d in oracle.doses}
    events = [e for e in stored(campaign, "AdverseEvent")
              if e["suspectEntity"][0]["instance"]["reference"].split("/")[1] in doses]
    assert events, "the seeded campaign has reactions"
    key = Counter((doses[e["suspectEntity"][0]["instance"]["reference"].split("/")[1]]
                   ["vaccineCode"]["coding"][0]["code"],
                   doses[e["suspectEntity"][0]["instance"]["reference"].split("/")[1]]
                   ["lotNumber"]) for e in events)
    assert counts(campaign, "events", indicator="adverse-events",
                  by=("vaccine", "lot")) == dict(key)
    serious = {e["id"] for e in events
               if e["seriousness"]["coding"][0]["code"] == "serious"}
    listed = serious_events(campaign.store, IndicatorQuery("adverse-events"))
    assert {e.id for e in listed} == serious
    assert counts(campaign, "serious", indicator="adverse-events") == (
        {(): len(serious)} if serious else {})


def test_verification_counts_unconfirmed_doses_per_site(campaign: Services) -> None:
    oracle = tally(campaign)
    expected = oracle.doses_by(lambda d: d["location"]["reference"].split("/")[1])
    assert counts(campaign, "unconfirmed", indicator="verification", by=("site",)) == {
        (s,): n for s, n in expected.items()}


def test_province_and_group_queries_read_a_cube_bounded_by_code_lists() -> None:
    """Issue 15 performance: a province-filtered indicator must not grow with the data, so the
    cube it reads keeps only code-list fields (province, group, vaccine), never sites, lots,
    days or communes, whose cells multiply as the campaign grows."""
    growing = {"s", "l", "d", "c"}
    for needed in ({"p"}, {"p", "g"}, {"p", "v"}, {"g"}, set()):
        assert not growing & set(choose_cube(needed).fields), needed
    assert "s" in choose_cube({"p", "s"}).fields  # a site query still finds its cube
    assert "d" in choose_cube({"p", "d"}).fields
