"""The after-write effects keep the indicators equal to the stored resources through updates,
status changes (entered-in-error), moves, deletes, confirmations and disputes; a rebuild from
the resources gives the same cells (issue 15 point 1; R4 immunization.html#status)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from fhir_server.analytics.indicators import compute, serious_events
from fhir_server.analytics.query import IndicatorQuery
from fhir_server.analytics.rebuild import rebuild
from fhir_server.interactions.context import Services
from tests.analytics.conftest import PROVINCE_URL, campaign_services, stored, tally

QUERIES = (IndicatorQuery("doses", by=("province", "vaccine", "day")),
           IndicatorQuery("coverage", by=("province", "group")),
           IndicatorQuery("planning", by=("commune", "group", "day")),
           IndicatorQuery("adverse-events", by=("vaccine", "lot")),
           IndicatorQuery("verification", by=("site",)))


@pytest.fixture(scope="module")
def small(make_app: Callable[..., Flask]) -> Services:
    """A campaign of 12 people on its own database, changed by the tests in turn."""
    return campaign_services(make_app, 12)


def snapshot(svc: Services) -> list[Any]:
    """Every query's cells."""
    return [compute(svc.store, q) for q in QUERIES]


def total(svc: Services, indicator: str, measure: str) -> int:
    """One measure over everything."""
    return compute(svc.store, IndicatorQuery(indicator))[0].counts[measure]


def a_person_with_doses(svc: Services, at_least: int) -> tuple[str, list[dict[str, Any]]]:
    """A Patient id with at least this many completed doses, and those doses by date."""
    doses: dict[str, list[dict[str, Any]]] = {}
    for dose in tally(svc).doses:
        doses.setdefault(dose["patient"]["reference"].split("/")[1], []).append(dose)
    person = next(p for p, found in sorted(doses.items()) if len(found) >= at_least)
    return person, doses[person]


def test_entered_in_error_and_back(small: Services) -> None:
    before = total(small, "doses", "doses")
    person, doses = a_person_with_doses(small, 1)
    dose = copy.deepcopy(doses[-1])
    dose["status"] = "entered-in-error"
    small.store.update("Immunization", dose["id"], dose)
    assert total(small, "doses", "doses") == before - 1
    assert total(small, "verification", "unconfirmed") == len(tally(small).doses)
    dose["status"] = "completed"
    small.store.update("Immunization", dose["id"], dose)
    assert total(small, "doses", "doses") == before


def test_deleting_the_only_dose_puts_the_person_back_on_the_planning_list(
        small: Services) -> None:
    waiting = total(small, "planning", "registered_unvaccinated")
    people = total(small, "coverage", "people_1plus")
    person, doses = a_person_with_doses(small, 1)
    for dose in doses:
        small.store.delete("Immunization", dose["id"])
    assert total(small, "coverage", "people_1plus") == people - 1
    assert total(small, "planning", "registered_unvaccinated") == waiting + 1
    assert total(small, "doses", "doses") == len(tally(small).doses)


def test_a_person_who_moves_counts_in_the_new_province(small: Services) -> None:
    person, doses = a_person_with_doses(small, 1)
    patient = copy.deepcopy(small.store.read("Patient", person).resource or {})
    old = next(e for e in patient["address"][0]["extension"] if e["url"] == PROVINCE_URL)
    new = "79" if old["valueCoding"]["code"] != "79" else "01"
    patient["address"][0]["extension"] = [
        {"url": PROVINCE_URL, "valueCoding": {**old["valueCoding"], "code": new}}]
    by = IndicatorQuery("doses", area=new)
    moved = compute(small.store, by)[0].counts["doses"]
    small.store.update("Patient", person, patient)
    assert compute(small.store, by)[0].counts["doses"] == moved + len(doses)


def test_legacy_province_code_is_mapped(small: Services) -> None:
    person, doses = a_person_with_doses(small, 1)
    patient = copy.deepcopy(small.store.read("Patient", person).resource or {})
    patient["address"][0]["extension"] = [{"url": PROVINCE_URL, "valueCoding": {
        "system": "https://fhir.moh.gov.vn/terminology/CodeSystem/vn-province-legacy",
        "code": "02"}}]  # Hà Giang, merged into Tuyên Quang (08) in 2025
    small.store.update("Patient", person, patient)
    assert compute(small.store, IndicatorQuery("doses", area="02"))[0].counts == \
        compute(small.store, IndicatorQuery("doses", area="08"))[0].counts
    assert compute(small.store, IndicatorQuery("doses", area="08"))[0].counts["doses"] >= len(
        doses)


def test_confirmation_and_dispute_marks(small: Services) -> None:
    unconfirmed = total(small, "verification", "unconfirmed")
    person, doses = a_person_with_doses(small, 1)
    target = {"reference": f"Immunization/{doses[0]['id']}"}
    provenance = small.store.create("Provenance", {
        "resourceType": "Provenance", "target": [target], "recorded": "2022-06-01T00:00:00Z",
        "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                           "v3-DataOperation", "code": "VERIFY"}]},
        "agent": [{"who": {"reference": f"Patient/{person}"}}]})
    assert total(small, "verification", "unconfirmed") == unconfirmed - 1
    flag = small.store.create("Flag", {
        "resourceType": "Flag", "status": "active", "code": {"text": "khiếu nại"},
        "subject": {"reference": f"Patient/{person}"},
        "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/flag-detail",
                       "valueReference": target}]})
    assert total(small, "verification", "disputed") == 1
    resolved = {**(flag.resource or {}), "status": "inactive"}
    small.store.update("Flag", flag.id, resolved)
    assert total(small, "verification", "disputed") == 0
    small.store.delete("Provenance", provenance.id)
    assert total(small, "verification", "unconfirmed") == unconfirmed


def test_a_serious_adverse_event_counted_listed_and_deleted(small: Services) -> None:
    events, serious = total(small, "adverse-events", "events"), total(small, "adverse-events",
                                                                        "serious")
    person, doses = a_person_with_doses(small, 1)
    event = small.store.create("AdverseEvent", {
        "resourceType": "AdverseEvent", "actuality": "actual",
        "event": {"coding": [{"system": "https://fhir.moh.gov.vn/terminology/CodeSystem/"
                                        "vn-post-vaccination-reaction", "code": "phan-ve"}]},
        "subject": {"reference": f"Patient/{person}"}, "date": doses[0]["occurrenceDateTime"],
        "seriousness": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                              "adverse-event-seriousness", "code": "serious"}]},
        "suspectEntity": [{"instance": {"reference": f"Immunization/{doses[0]['id']}"}}]})
    assert total(small, "adverse-events", "events") == events + 1
    assert total(small, "adverse-events", "serious") == serious + 1
    listed = {e.id: e for e in serious_events(small.store, IndicatorQuery("adverse-events"))}
    assert listed[event.id].event == "phan-ve"
    assert listed[event.id].lot == doses[0]["lotNumber"]
    assert person not in repr(listed[event.id])  # no subject
    small.store.delete("AdverseEvent", event.id)
    assert total(small, "adverse-events", "events") == events
    assert event.id not in {e.id for e in serious_events(small.store,
                                                        IndicatorQuery("adverse-events"))}


def test_rebuild_gives_the_cells_the_effects_kept(small: Services) -> None:
    kept = snapshot(small)
    report = rebuild(small)
    assert report.resources["Immunization"] == len(stored(small, "Immunization"))
    assert snapshot(small) == kept
