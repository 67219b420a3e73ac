"""The indicator operations over HTTP (issue 15 point 2), on an engine stand-in that sums a fixed
table the way fhir_server/analytics does (the real engine: test_analytics_seeded.py).

FHIR R4 operations.html (type-level operations, GET with query parameters or POST with
Parameters; a 400 OperationOutcome for bad input), measurereport.html (summary reports),
security.html#audit (each call recorded), http.html#mime-type (`_format`, Accept).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from flask import Flask

from fhir_server.analytics import indicators
from fhir_server.analytics.query import Cell, IndicatorQuery, SeriousEvent
from fhir_server.operations import analytics
from fhir_server.repository import Repository
from tests.api.auth_helpers import bearer
from tests.api.test_auth_matrix import World

COVERAGE = "/MeasureReport/$vaccination-coverage"
DATA_ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
# (province, group, day) -> counts: the stand-in's records
FACTS = [
    ({"province": "01", "group": "9", "day": "2021-08-01"},
     {"people_1plus": 40, "people_primary": 30, "people_booster": 6, "population": 100}),
    ({"province": "01", "group": "1", "day": "2021-08-02"},
     {"people_1plus": 25, "people_primary": 20, "people_booster": 0, "population": 50}),
    ({"province": "79", "group": "9", "day": "2021-08-02"},
     {"people_1plus": 3, "people_primary": 2, "people_booster": 0, "population": 80}),
]


def stand_in(calls: list[tuple[Repository, IndicatorQuery]]) -> Callable[..., list[Cell]]:
    """An engine that sums FACTS by query.by, recording who asked what."""
    def compute(source: Repository, query: IndicatorQuery) -> list[Cell]:
        calls.append((source, query))
        cells: dict[tuple[str, ...], dict[str, int]] = {}
        for key, counts in FACTS:
            if query.area is not None and key["province"] != query.area:
                continue
            cell = cells.setdefault(tuple(key.get(d, "") for d in query.by), {})
            for measure, value in counts.items():
                cell[measure] = cell.get(measure, 0) + value
        return [Cell(dict(zip(query.by, k, strict=True)), v) for k, v in cells.items()]
    return compute


@pytest.fixture(scope="module")
def world(make_app: Callable[..., Flask]) -> World:
    return World(make_app(auth_required=True, audit="all", load_conformance=True))


@pytest.fixture()
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[Repository, IndicatorQuery]]]:
    seen: list[tuple[Repository, IndicatorQuery]] = []
    monkeypatch.setattr(indicators, "compute", stand_in(seen))
    yield seen


def _get(world: World, who: str, url: str, **headers: str) -> Any:
    return world.app.test_client().get(url, headers={**world.tokens[who], **headers})


def _group(report: dict[str, Any], code: str) -> dict[str, Any]:
    return next(g for g in report["group"] if g["code"]["coding"][0]["code"] == code)


def _count(element: dict[str, Any], code: str = "numerator") -> int | None:
    found = next(p for p in element["population"] if p["code"]["coding"][0]["code"] == code)
    return found.get("count")


def test_analyst_runs_coverage_by_province(world: World, calls: list[Any]) -> None:
    answer = _get(world, "analyst", f"{COVERAGE}?period-start=2021-07-01&period-end=2021-12-31"
                                    "&stratify-by=province")
    assert answer.status_code == 200, answer.get_json()
    report = answer.get_json()
    get_fhir_model_class("MeasureReport").model_validate(report)
    assert report["measure"] == "https://fhir.moh.gov.vn/fhir/Measure/vn-vaccination-coverage"
    one = _group(report, "people_1plus")
    assert (_count(one), _count(one, "denominator")) == (68, 230)
    strata = one["stratifier"][0]["stratum"]
    assert [s["value"]["coding"][0]["code"] for s in strata] == ["01", "79"]
    assert [_count(s) for s in strata] == [None, None]  # 3 masked, and 65 as its complement
    assert strata[1]["population"][0]["extension"] == [{"url": DATA_ABSENT,
                                                        "valueCode": "masked"}]
    assert _count(strata[1], "denominator") == 80
    sources = {id(source) for source, _ in calls}
    assert len(sources) == 1 and calls[0][0].caller.roles == frozenset({"analyst"})
    assert [q.by for _, q in calls] == [(), ("province",)]


def test_post_parameters_same_answer(world: World, calls: list[Any]) -> None:
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "period-start", "valueDate": "2021-07-01"},
        {"name": "area", "valueString": "01"},
        {"name": "stratify-by", "valueCode": "group"}, {"name": "stratify-by", "valueCode": "day"}]}
    answer = world.app.test_client().post(COVERAGE, json=body, headers={
        **world.tokens["admin"], "Content-Type": "application/fhir+json"})
    assert answer.status_code == 200, answer.get_json()
    strata = _group(answer.get_json(), "people_1plus")["stratifier"][0]["stratum"]
    assert [[c["value"].get("text") or c["value"]["coding"][0]["code"] for c in s["component"]]
            for s in strata] == [["1", "2021-08-02"], ["9", "2021-08-01"]]
    assert [_count(s) for s in strata] == [25, 40]
    assert calls[-1][1] == IndicatorQuery("coverage", calls[-1][1].start, None, "01", None, None,
                                          ("group", "day"))


def test_analyst_sees_aggregates_only(world: World, calls: list[Any]) -> None:
    for url in ("/Patient", "/Immunization", f"/Patient/{world.a['patient']}",
                f"/Immunization/{world.imm['a']}", "/Immunization?patient.province=01"):
        assert _get(world, "analyst", url).status_code == 403, url
    assert _get(world, "analyst", "/Measure/vn-vaccination-coverage").status_code == 200


@pytest.mark.parametrize(("who", "status"), [("A", 403), ("anonymous", 401), ("system", 200),
                                             ("practitioner", 200)])
def test_who_may_call(world: World, calls: list[Any], who: str, status: int) -> None:
    answer = _get(world, who, "/MeasureReport/$doses-administered?area=zz")
    assert answer.status_code == (400 if status == 200 else status), answer.get_json()
    assert not calls  # a refused caller's input is not even checked


def test_system_client_needs_a_measure_report_scope(world: World, calls: list[Any]) -> None:
    auth = world.app.extensions["fhir"].components["auth"]
    narrow = bearer(auth.token_for("system/Patient.read", 600, "site-system"))
    answer = world.app.test_client().get(COVERAGE, headers=narrow)
    assert answer.status_code == 403
    wide = bearer(auth.token_for("system/MeasureReport.read", 600, "site-system"))
    assert world.app.test_client().get(COVERAGE, headers=wide).status_code == 200


def test_each_call_is_audited_once(world: World, calls: list[Any],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    sink = world.app.extensions["fhir"].components["auth"].audit
    events: list[dict[str, Any]] = []
    original = sink.record
    monkeypatch.setattr(sink, "record", lambda event: (events.append(event), original(event)))
    assert _get(world, "analyst", f"{COVERAGE}?area=79&stratify-by=group").status_code == 200
    assert _get(world, "A", COVERAGE).status_code == 403
    assert len(events) == 2
    allowed, refused = events
    described = " ".join(str(e.get("description", "")) for e in allowed["entity"])
    assert "area=79" in described and "stratify-by=group" in described
    assert (allowed["outcome"], refused["outcome"]) == ("0", "4")
    assert refused["agent"][0]["who"]["reference"] == f"Patient/{world.a['patient']}"


@pytest.mark.parametrize("how", [{"query": "&_format=csv"}, {"query": "&_format=text/csv"},
                                 {"Accept": "text/csv"}])
def test_csv(world: World, calls: list[Any], how: dict[str, str]) -> None:
    url = f"{COVERAGE}?stratify-by=province{how.get('query', '')}"
    headers = {"Accept": how["Accept"]} if "Accept" in how else {}
    answer = _get(world, "analyst", url, **headers)
    assert answer.status_code == 200
    assert answer.content_type == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert rows[0][:5] == ["province", "people_1plus", "people_primary", "people_booster",
                           "population"]
    assert rows[1][:5] == ["01", "", "", "6", "150"]  # masked: the complements of 79's 3, 2
    assert rows[2][:5] == ["79", "", "", "0", "80"]


def test_csv_only_where_offered(world: World, calls: list[Any]) -> None:
    answer = _get(world, "admin", "/QuestionnaireResponse/$declaration-summary?_format=csv")
    assert answer.status_code == 406
    assert answer.get_json()["resourceType"] == "OperationOutcome"
    for who, query, status in (("A", "", 403), ("analyst", "&area=zz", 400)):
        refused = _get(world, who, f"{COVERAGE}?_format=csv{query}")
        assert refused.status_code == status  # errors stay OperationOutcomes, in JSON
        assert refused.get_json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(("query", "expression"), [
    ("area=999", "area"), ("area=urn:other|01", "area"), ("group=99", "group"),
    ("vaccine=sputnik-x", "vaccine"), ("period-start=2021-09-01&period-end=2021-08-01",
                                       "period-end"),
    ("period-start=2021-13-01", "period-start"), ("period-end=yesterday", "period-end"),
    ("period-start=2021-W01-1", "period-start"), ("stratify-by=county", "stratify-by"),
    ("stratify-by=day,day", "stratify-by"), ("area=01&area=79", "area"), ("colour=red", "colour"),
])
def test_bad_input_names_the_parameter(world: World, calls: list[Any], query: str,
                                       expression: str) -> None:
    answer = _get(world, "analyst", f"{COVERAGE}?{query}")
    assert answer.status_code == 400, answer.get_json()
    outcome = answer.get_json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["expression"] == [expression]
    assert not calls


def test_lot_is_not_a_coverage_dimension_and_bodies_are_parameters(world: World,
                                                                   calls: list[Any]) -> None:
    answer = _get(world, "analyst", f"{COVERAGE}?stratify-by=lot")
    assert answer.status_code == 400
    assert answer.get_json()["issue"][0]["expression"] == ["stratify-by"]
    for body in ({"resourceType": "Patient"}, {"resourceType": "Parameters", "parameter": "x"},
                 {"resourceType": "Parameters", "parameter": [7]}):
        posted = world.app.test_client().post(COVERAGE, json=body, headers={
            **world.tokens["analyst"], "Content-Type": "application/fhir+json"})
        assert posted.status_code == 400, body


def test_definitions_measures_and_capability(world: World) -> None:
    client = world.app.test_client()
    statement = client.get("/metadata").get_json()
    measure_report = next(r for r in statement["rest"][0]["resource"]
                          if r["type"] == "MeasureReport")
    names = {op["name"]: op["definition"] for op in measure_report["operation"]}
    assert {"vaccination-coverage", "doses-administered", "registration-backlog",
            "adverse-event-rates", "dose-verification"} <= set(names)
    definition = client.get("/OperationDefinition/vaccination-coverage",
                            headers=world.tokens["analyst"]).get_json()
    assert definition["url"] == names["vaccination-coverage"]
    assert [p["name"] for p in definition["parameter"]] == [
        "period-start", "period-end", "area", "group", "vaccine", "stratify-by", "return"]
    for measure in ("vn-vaccination-coverage", "vn-adverse-event-rates"):
        served = client.get(f"/Measure/{measure}", headers=world.tokens["analyst"]).get_json()
        get_fhir_model_class("Measure").model_validate(served)
    codes = client.get("/CodeSystem/vn-campaign-indicator", headers=world.tokens["A"])
    assert codes.status_code == 200


def test_search_parameters_served_listed_and_chained(world: World) -> None:
    """searchparameter.html, capabilitystatement.html (rest.resource.searchParam) and
    search.html#chaining: staff who may search find doses by their person's province."""
    client = world.app.test_client()
    statement = client.get("/metadata").get_json()
    by_type = {r["type"]: {p["name"]: p["definition"] for p in r.get("searchParam", [])}
               for r in statement["rest"][0]["resource"]}
    assert by_type["Patient"]["province"].endswith("/SearchParameter/vn-patient-province")
    assert "commune" in by_type["Patient"] and "priority-group" in by_type["Appointment"]
    served = client.get("/SearchParameter/vn-patient-province", headers=world.tokens["analyst"])
    assert served.status_code == 200 and served.get_json()["code"] == "province"
    patient = client.get(f"/Patient/{world.b['patient']}",
                         headers=world.tokens["admin"]).get_json()
    patient["address"] = [{"country": "VN", "extension": [
        {"url": "https://fhir.moh.gov.vn/fhir/StructureDefinition/vn-address-province",
         "valueCoding": {"system": "https://fhir.moh.gov.vn/terminology/CodeSystem/vn-province",
                         "code": "92"}},
        {"url": "https://fhir.moh.gov.vn/fhir/StructureDefinition/vn-address-commune",
         "valueCoding": {"system": "https://fhir.moh.gov.vn/terminology/CodeSystem/vn-commune",
                         "code": "31120"}}]}]
    headers = {**world.tokens["admin"], "Content-Type": "application/fhir+json"}
    stored = client.put(f"/Patient/{world.b['patient']}", json=patient, headers=headers)
    assert stored.status_code == 200, stored.get_json()
    for who in ("practitioner", "admin"):
        found = client.get("/Immunization?patient.province=92", headers=world.tokens[who])
        assert found.status_code == 200
        assert {e["resource"]["id"] for e in found.get_json().get("entry", [])} == {
            world.imm["b"]}
    assert _get(world, "analyst", "/Patient?province=92").status_code == 403


def test_serious_events_listed_without_subject(world: World,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """AdverseEvent/$serious-events: a Parameters (operations.html#response) with a total and
    one event per serious adverse event: date, reaction, vaccine, lot, site; no person."""
    asked: list[IndicatorQuery] = []

    def listing(source: Repository, query: IndicatorQuery) -> list[SeriousEvent]:
        asked.append(query)
        return [SeriousEvent("ae-2", "soc-phan-ve", "pfizer-biontech", "=LOT", "2021-08-03",
                             "loc-9"),
                SeriousEvent("ae-1", "", "astrazeneca", "AZ1", "2021-08-01", "")]
    monkeypatch.setattr(indicators, "serious_events", listing)
    url = "/AdverseEvent/$serious-events?period-start=2021-08-01&vaccine=pfizer-biontech"
    answer = _get(world, "analyst", url)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    get_fhir_model_class("Parameters").model_validate(body)
    assert body["parameter"][0] == {"name": "total", "valueInteger": 2}
    first, second = (p["part"] for p in body["parameter"][1:])
    assert [p["name"] for p in first] == ["date", "vaccine", "lot"]
    assert {p["name"]: next(v for k, v in p.items() if k.startswith("value"))
            for p in second}["site"] == {"reference": "Location/loc-9"}
    assert "ae-1" not in answer.get_data(as_text=True)
    assert asked[0].vaccine == "pfizer-biontech" and asked[0].indicator == "adverse-events"
    table = _get(world, "analyst", f"{url}&_format=csv").get_data(as_text=True).splitlines()
    assert table == ["date,reaction,vaccine,lot,site", "2021-08-01,,astrazeneca,AZ1,",
                     "2021-08-03,soc-phan-ve,pfizer-biontech,'=LOT,loc-9"]
    assert _get(world, "A", url).status_code == 403
    refused = _get(world, "analyst", "/AdverseEvent/$serious-events?stratify-by=lot")
    assert refused.get_json()["issue"][0]["expression"] == ["stratify-by"]


def test_json_and_xml_formats(world: World, calls: list[Any]) -> None:
    """http.html#mime-type: `_format=json` (the dashboard's) and `_format=xml` answer the same
    MeasureReport in either format."""
    as_json = _get(world, "analyst", f"{COVERAGE}?_format=json&stratify-by=group")
    assert as_json.status_code == 200 and as_json.content_type.startswith("application/fhir+json")
    as_xml = _get(world, "analyst", f"{COVERAGE}?_format=xml&stratify-by=group")
    assert as_xml.status_code == 200
    assert as_xml.content_type.startswith("application/fhir+xml")
    text = as_xml.get_data(as_text=True)
    assert "<MeasureReport" in text and "vn-vaccination-coverage" in text


def test_too_many_strata_is_too_costly(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cross-table too large for one answer is refused (400 too-costly), not served."""
    monkeypatch.setattr(analytics, "MAX_STRATA", 2)
    monkeypatch.setattr(indicators, "compute", stand_in([]))
    answer = _get(world, "analyst", f"{COVERAGE}?stratify-by=province,group")
    assert answer.status_code == 400
    assert answer.get_json()["issue"][0]["code"] == "too-costly"
    assert _get(world, "analyst", f"{COVERAGE}?stratify-by=province").status_code == 200
