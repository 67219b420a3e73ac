"""The pure fact functions: local dates (Asia/Ho_Chi_Minh), 2025 areas from legacy codes,
doses, registrations, adverse events, marks, and one person's contributions (issue 15 point 1;
R4 datatypes.html#dateTime)."""

from __future__ import annotations

from typing import Any

from fhir_server.analytics import facts
from fhir_server.analytics.rollup import CUBES, delta, project

SD = "https://fhir.moh.gov.vn/fhir/StructureDefinition"


def test_local_day_is_the_date_in_vietnam() -> None:
    assert facts.local_day("2022-01-31T18:30:00Z") == "2022-02-01"
    assert facts.local_day("2022-01-31T23:30:00+07:00") == "2022-01-31"
    assert facts.local_day("2022-01-31") == "2022-01-31"
    assert facts.local_day(None) == ""


def test_patient_area_maps_legacy_codes() -> None:
    patient = {"address": [{"extension": [
        {"url": f"{SD}/vn-address-province", "valueCoding": {"code": "02"}}]}]}
    assert facts.patient_fact(patient) == {"p": "08", "c": ""}
    with_commune = {"address": [{"extension": [
        {"url": f"{SD}/vn-address-commune", "valueCoding": {"code": "00004"}}]}]}
    assert facts.patient_fact(with_commune) == {"p": "01", "c": "00004"}
    assert facts.patient_fact(None) == {"p": "", "c": ""}


def _dose(day: str, number: int, status: str = "completed") -> dict[str, Any]:
    return {"status": status, "occurrenceDateTime": f"{day}T09:00:00+07:00",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx",
                                        "code": "207"}]},  # Moderna by its CVX code
            "lotNumber": "MO1", "location": {"reference": "Location/site-1"},
            "protocolApplied": [{"doseNumberPositiveInt": number}]}


def test_dose_fact_uses_the_schedule_of_a_cvx_code() -> None:
    fact = facts.dose_fact(_dose("2022-01-01", 1))
    assert fact == {"d": "2022-01-01", "v": "moderna", "l": "MO1", "s": "site-1", "n": 1,
                    "sd": 2, "ok": True}
    assert not facts.dose_fact(_dose("2022-01-01", 1, "entered-in-error"))["ok"]


def test_contributions_of_a_boosted_person() -> None:
    person = {"area": {"p": "01", "c": "00004"},
              "regs": {"a1": {"d": "2021-12-01", "g": "9", "s": "site-1", "ok": True}},
              "doses": {f"i{n}": facts.dose_fact(_dose(day, n)) for n, day in
                        ((1, "2022-01-01"), (2, "2022-02-01"), (3, "2022-06-01"))},
              "events": {"e1": {"d": "2022-01-02", "e": "phan-ve", "x": True, "i": "i1",
                                "ok": True}},
              "marks": {"i2": {"p": ["prov-1"], "f": []}}}
    found = facts.contributions(person)
    first = ("2022-01-01", "00004", "01", "9", "moderna", "MO1", "site-1")
    assert found[first] == {"doses": 1, "unconfirmed": 1, "people_1plus": 1, "events": 1,
                            "serious": 1}
    assert found[("2022-02-01", "00004", "01", "9", "moderna", "MO1", "site-1")] == {
        "doses": 1, "people_primary": 1}
    assert found[("2022-06-01", "00004", "01", "9", "moderna", "MO1", "site-1")] == {
        "doses": 1, "unconfirmed": 1, "people_booster": 1}
    assert sum(c.get("registered_unvaccinated", 0) for c in found.values()) == 0
    assert set(facts.serious_listing(person)) == {"e1"}
    unvaccinated = {**person, "doses": {}}
    assert list(facts.contributions(unvaccinated).values()) == [{"registered_unvaccinated": 1}]


def test_projection_and_delta() -> None:
    key = ("2022-01-01", "00004", "01", "9", "moderna", "MO1", "site-1")
    cells = project({key: {"doses": 2}})
    assert len(cells) == len(CUBES)
    assert cells[("pgv", "01|9|moderna")] == {"doses": 2}
    assert delta({key: {"doses": 2}}, {key: {"doses": 1, "events": 1}}) == {
        key: {"doses": -1, "events": 1}}
    assert delta({key: {"doses": 1}}, {key: {"doses": 1}}) == {}


def test_marks_from_provenance_and_flag() -> None:
    verify = {"activity": {"coding": [{"system": facts.DATA_OPERATION, "code": "VERIFY"}]},
              "target": [{"reference": "Immunization/i1"}, {"reference": "Patient/p"}]}
    assert facts.confirmed_doses(verify) == ["i1"]
    assert facts.confirmed_doses({**verify, "activity": {}}) == []
    flag = {"status": "active", "extension": [{"url": facts.FLAG_DETAIL, "valueReference": {
        "reference": "Immunization/i1"}}]}
    assert facts.disputed_dose(flag) == "i1"
    assert facts.disputed_dose({**flag, "status": "inactive"}) == ""
