"""Health declarations (Khai báo y tế), issue 14 point 8, walked over HTTP: the citizen
declares for themself, a linked family member or a person without an account (identified in
the `person` answers) with a plain `POST /QuestionnaireResponse` to the vn-health-declaration
Questionnaire (questionnaireresponse.html); the answers are checked against the Questionnaire
and the commune against its province (vn-commune-in-province); sites and administrators find
declarations by date (`authored`) and area (the custom SearchParameter `area`); analysts, who
see no personal data, are refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from fhir_server.campaign.declarations import OTHER
from tests.api.campaign_world import Campaign, expressions

DECLARATION = "https://fhir.moh.gov.vn/fhir/Questionnaire/vn-health-declaration"
CS = "https://fhir.moh.gov.vn/terminology/CodeSystem"
SELF = "Bản thân (self)"
FAMILY = "Người thân trong gia đình (a linked family member)"
HANOI, BA_DINH = "01", "00004"
CA_MAU, DAT_MUI = "96", "32248"


class World(Campaign):
    """The campaign world plus an analyst."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        service = app.extensions["fhir"].components["auth"]
        service.accounts.create_staff("0903555777", "analyst", "Staff2021pass", ["analyst"])
        login = self.http.post("/auth/login", json={"username": "0903555777",
                                                    "password": "Staff2021pass"})
        self.tokens["analyst"] = {"Authorization": f"Bearer {login.get_json()['access_token']}"}

    def ids(self, who: str, query: str) -> set[str]:
        """The ids a QuestionnaireResponse search finds."""
        response = self.send(who, "GET", f"/QuestionnaireResponse?{query}")
        assert response.status_code == 200, response.get_json()
        return {e["resource"]["id"] for e in response.get_json().get("entry", [])}


@pytest.fixture(scope="module")
def world(make_app: Callable[..., Flask]) -> World:
    return World(make_app(auth_required=True))


def _answer(link: str, *values: dict[str, Any]) -> dict[str, Any]:
    return {"linkId": link, "answer": list(values)}


def declaration(author: str, subject: str | None, declared_for: str = SELF,
                province: str = HANOI, commune: str = BA_DINH, day: str = "2021-08-15",
                person: dict[str, Any] | None = None, leave_out: str | None = None
                ) -> dict[str, Any]:
    """A completed declaration: no travel, no symptoms, no exposure."""
    no = {"valueBoolean": False}
    items: list[dict[str, Any]] = [_answer("declared-for", {"valueString": declared_for})]
    if person is not None:
        items.append({"linkId": "person", "item": [
            _answer(f"person.{k}", {"valueDate" if k == "birthDate" else "valueString": v})
            for k, v in person.items()]})
    items += [
        {"linkId": "contact", "item": [
            _answer("contact.phone", {"valueString": "+84912345678"}),
            _answer("contact.province", {"valueCoding": {"system": f"{CS}/vn-province",
                                                         "code": province}}),
            _answer("contact.commune", {"valueCoding": {"system": f"{CS}/vn-commune",
                                                        "code": commune}})]},
        _answer("travel", no), _answer("symptoms", {"valueString": "Không có (none)"}),
        _answer("exposure.case", no), _answer("exposure.travel", no),
        _answer("exposure.symptomatic", no), _answer("commitment", {"valueBoolean": True})]
    body: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse", "questionnaire": DECLARATION,
        "status": "completed", "authored": f"{day}T08:00:00+07:00",
        "author": {"reference": f"Patient/{author}"},
        "item": [i for i in items if i["linkId"] != leave_out]}
    if subject is not None:
        body["subject"] = {"reference": f"Patient/{subject}"}
    return body


def _post(world: World, body: dict[str, Any]) -> Any:
    return world.send("A", "POST", "/QuestionnaireResponse", body)


def _created(world: World, body: dict[str, Any]) -> str:
    response = _post(world, body)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def test_declare_for_self_family_and_another_person(world: World) -> None:
    a = world.a["patient"]
    own = _created(world, declaration(a, a))
    family = _created(world, declaration(a, world.family, FAMILY, day="2021-08-16"))
    other = _created(world, declaration(a, None, OTHER, CA_MAU, DAT_MUI, day="2021-08-17",
                                        person={"name": "Trần Văn Tư", "birthDate": "1950-02-03",
                                                "cccd": "096050001234"}))
    assert world.ids("A", f"questionnaire={DECLARATION}") == {own, family, other}
    assert world.ids("B", f"questionnaire={DECLARATION}") == set()


def test_authorities_search_by_date_and_area(world: World) -> None:
    a = world.a["patient"]
    hanoi = _created(world, declaration(a, a, day="2021-09-01"))
    ca_mau = _created(world, declaration(a, None, OTHER, CA_MAU, DAT_MUI, day="2021-09-02",
                                         person={"name": "Lê Thị Năm",
                                                 "birthDate": "1948-05-06"}))
    _created(world, declaration(a, a, day="2021-07-01"))  # before the period
    since = f"questionnaire={DECLARATION}&authored=ge2021-09-01"
    for who in ("practitioner", "admin"):
        assert world.ids(who, since) == {hanoi, ca_mau}
        assert world.ids(who, f"{since}&area={HANOI}") == {hanoi}
        assert world.ids(who, f"{since}&area={CS}/vn-commune|{DAT_MUI}") == {ca_mau}
        assert world.ids(who, f"{since}&area={CA_MAU}&authored=lt2021-09-02") == set()
    assert world.send("analyst", "GET", f"/QuestionnaireResponse?{since}").status_code == 403
    described = world.send("admin", "GET", "/metadata").get_json()
    qr = next(r for r in described["rest"][0]["resource"]
              if r["type"] == "QuestionnaireResponse")
    assert "area" in {p["name"] for p in qr["searchParam"]}


def test_bad_declarations_name_the_field_and_write_nothing(world: World) -> None:
    a = world.a["patient"]
    before = len(world.ids("admin", f"questionnaire={DECLARATION}&_count=500"))
    outside = _post(world, declaration(a, a, province=HANOI, commune=DAT_MUI))
    assert outside.status_code == 422
    assert expressions(outside) == ["QuestionnaireResponse.item[1].item[2].answer[0]"
                                    ".valueCoding"]
    assert "vn-pat-11" in outside.get_json()["issue"][0]["diagnostics"]
    missing = _post(world, declaration(a, a, leave_out="commitment"))
    assert missing.status_code == 422
    assert expressions(missing) == ["QuestionnaireResponse.item.where(linkId='commitment')"]
    nobody = _post(world, declaration(a, None, OTHER))  # another person, not identified
    assert nobody.status_code == 422
    assert expressions(nobody) == ["QuestionnaireResponse.item.where(linkId='person')"]
    no_subject = _post(world, declaration(a, None, FAMILY))
    assert no_subject.status_code == 422
    assert expressions(no_subject) == ["QuestionnaireResponse.subject"]
    both = _post(world, declaration(a, a, OTHER, person={"name": "X", "birthDate": "1990-01-01"}))
    assert both.status_code == 422 and expressions(both) == ["QuestionnaireResponse.subject"]
    theirs = _post(world, declaration(a, world.b["patient"], FAMILY))
    assert theirs.status_code == 403
    assert len(world.ids("admin", f"questionnaire={DECLARATION}&_count=500")) == before


def test_declaration_counts_for_the_authorities(world: World) -> None:
    a = world.a["patient"]
    _created(world, declaration(a, a, day="2021-10-01"))
    _created(world, declaration(a, world.family, FAMILY, CA_MAU, DAT_MUI, day="2021-10-02"))
    url = ("/QuestionnaireResponse/$declaration-summary?authored=ge2021-10-01"
           f"&authored=lt2021-11-01&area={HANOI}&area={DAT_MUI}&area=48")
    for who in ("analyst", "practitioner", "admin"):
        answer = world.send(who, "GET", url)
        assert answer.status_code == 200, answer.get_json()
        counts = {p["name"] if p["name"] == "total" else p["part"][0]["valueString"]:
                  p.get("valueInteger", p.get("part", [{}, {}])[1].get("valueInteger"))
                  for p in answer.get_json()["parameter"]}
        assert counts == {"total": 2, HANOI: 1, DAT_MUI: 1, "48": 0}
    assert world.send("A", "GET", url).status_code == 403
    assert world.send("analyst", "GET", "/QuestionnaireResponse/$declaration-summary"
                                        "?authored=soon").status_code == 400


@pytest.mark.parametrize("body", [
    {"resourceType": "Parameters", "parameter": [{"name": "authored", "valueInteger": 3}]},
    {"resourceType": "Parameters", "parameter": [{"name": "area", "valueCoding": {"code": "1"}}]},
    {"resourceType": "Parameters", "parameter": [{"name": "authored",
                                                  "valueString": "ge2021-13-45"}]},
    {"resourceType": "Parameters", "parameter": [{"name": "area", "valueString": "x"}] * 51},
    {"resourceType": "Patient"}, [], "x"])
def test_junk_summary_inputs_are_4xx(world: World, body: Any) -> None:
    answer = world.send("analyst", "POST", "/QuestionnaireResponse/$declaration-summary", body)
    assert answer.status_code == 400, answer.get_json()
    assert answer.get_json()["resourceType"] == "OperationOutcome"
