"""QuestionnaireResponses against their Questionnaire (FHIR R4 questionnaireresponse.html
"Questionnaire and QuestionnaireResponse"; questionnaire.html item types, required, repeats,
answerOption, answerValueSet, enableWhen, maxLength), directly and through the API."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from fhir_server.settings import Settings
from fhir_server.validation.profiles import ProfileChecker, profile_checker
from tests.validation.test_profile_fixtures import CS, QUESTIONNAIRE, SEVERITY

SURVEY = f"{QUESTIONNAIRE}/vn-post-vaccination-survey"
DECLARATION = f"{QUESTIONNAIRE}/vn-health-declaration"
REACTION = f"{CS}/vn-post-vaccination-reaction"
SELF_CARE = "Tự theo dõi, chăm sóc tại nhà (self-care)"
FHIR_JSON = {"Content-Type": "application/fhir+json"}


def _answer(link: str, *values: dict[str, Any]) -> dict[str, Any]:
    return {"linkId": link, "answer": list(values)}


def survey() -> dict[str, Any]:
    """A completed post-vaccination reaction survey: fever and injection site pain."""
    return {"resourceType": "QuestionnaireResponse", "questionnaire": SURVEY,
            "status": "completed", "subject": {"reference": "Patient/p1"}, "item": [
                _answer("vaccine", {"valueCoding": {"system": f"{CS}/vn-covid19-vaccine",
                                                    "code": "pfizer-biontech"}}),
                _answer("dose", {"valueInteger": 2}),
                _answer("vaccination-date", {"valueDate": "2021-08-01"}),
                _answer("onset", {"valueDateTime": "2021-08-01T20:00:00+07:00"}),
                _answer("symptoms", {"valueCoding": {"system": REACTION, "code": "sot"}},
                        {"valueCoding": {"system": REACTION, "code": "dau-cho-tiem"}}),
                _answer("severity", {"valueCoding": {"system": SEVERITY, "code": "mild"}}),
                _answer("care", {"valueString": SELF_CARE})]}


def declaration() -> dict[str, Any]:
    """A completed health declaration: no travel, no symptoms, no exposure."""
    no = {"valueBoolean": False}
    return {"resourceType": "QuestionnaireResponse", "questionnaire": DECLARATION,
            "status": "completed", "subject": {"reference": "Patient/p1"}, "item": [
                {"linkId": "contact", "item": [
                    _answer("contact.phone", {"valueString": "+84912345678"}),
                    _answer("contact.province", {"valueCoding": {"system": f"{CS}/vn-province",
                                                                 "code": "01"}}),
                    _answer("contact.commune", {"valueCoding": {"system": f"{CS}/vn-commune",
                                                                "code": "00004"}})]},
                _answer("travel", no), _answer("symptoms", {"valueString": "Không có (none)"}),
                _answer("exposure.case", no), _answer("exposure.travel", no),
                _answer("exposure.symptomatic", no),
                _answer("commitment", {"valueBoolean": True})]}


def _item(response: dict[str, Any], link: str) -> dict[str, Any]:
    return next(i for i in response["item"] if i["linkId"] == link)


CASES: list[tuple[str, Callable[[], dict[str, Any]], Callable[[dict[str, Any]], Any], str,
                  str, str]] = [
    ("unknown linkId", survey, lambda r: r["item"].append(_answer("x", {"valueString": "?"})),
     "error", "structure", "QuestionnaireResponse.item[7].linkId"),
    ("required item missing", survey, lambda r: r["item"].pop(1), "error", "required",
     "QuestionnaireResponse.item.where(linkId='dose')"),
    ("answer type", survey, lambda r: _item(r, "dose").update(answer=[{"valueString": "2"}]),
     "error", "structure", "QuestionnaireResponse.item[1].answer[0]"),
    ("repeats", survey, lambda r: _item(r, "dose")["answer"].append({"valueInteger": 3}),
     "error", "structure", "QuestionnaireResponse.item[1].answer"),
    ("answerValueSet", survey, lambda r: _item(r, "vaccine")["answer"][0]["valueCoding"].update(
        code="sputnik-light"), "error", "code-invalid",
     "QuestionnaireResponse.item[0].answer[0].valueCoding"),
    ("red flags are serious reactions", survey, lambda r: r["item"].insert(5, _answer(
        "red-flags", {"valueCoding": {"system": REACTION, "code": "sot"}})), "error",
     "code-invalid", "QuestionnaireResponse.item[5].answer[0].valueCoding"),
    ("answerOption", survey, lambda r: _item(r, "care").update(answer=[
        {"valueString": "Đi chùa (went to the pagoda)"}]), "error", "code-invalid",
     "QuestionnaireResponse.item[6].answer[0].valueString"),
    ("enableWhen", survey, lambda r: r["item"].append(_answer(
        "care.facility", {"valueString": "Bệnh viện Bạch Mai"})), "error", "invalid",
     "QuestionnaireResponse.item[7]"),
    ("order", survey, lambda r: r["item"].reverse(), "error", "structure",
     "QuestionnaireResponse.item[1].linkId"),
    ("group takes no answer", declaration, lambda r: r["item"][0].update(
        answer=[{"valueString": "x"}]), "error", "structure",
     "QuestionnaireResponse.item[0].answer"),
    ("nested required", declaration, lambda r: r["item"][0]["item"].pop(0), "error",
     "required", "QuestionnaireResponse.item[0].item.where(linkId='contact.phone')"),
    ("maxLength", declaration, lambda r: r["item"][0]["item"].append(_answer(
        "contact.address", {"valueString": "x" * 201})), "error", "too-long",
     "QuestionnaireResponse.item[0].item[3].answer[0].valueString"),
    ("enabled item required", declaration, lambda r: _item(r, "travel").update(
        answer=[{"valueBoolean": True}]), "error", "required",
     "QuestionnaireResponse.item.where(linkId='travel.places')"),
]


@pytest.fixture(scope="module")
def checker() -> ProfileChecker:
    """The checker with the default settings."""
    return profile_checker(Settings())


def test_conformant_responses(checker: ProfileChecker) -> None:
    assert checker.check(survey()) == []
    assert checker.check(declaration()) == []
    travelled = declaration()
    _item(travelled, "travel").update(answer=[{"valueBoolean": True}])
    travelled["item"].insert(2, _answer("travel.places", {"valueString": "Đà Nẵng"}))
    assert checker.check(travelled) == []


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_violations(checker: ProfileChecker, case: tuple[Any, ...]) -> None:
    _, make, change, severity, code, expression = case
    response = copy.deepcopy(make())
    change(response)
    issues = [i.to_fhir() for i in checker.check(response)]
    assert any((i["severity"], i["code"], i["expression"]) == (severity, code, [expression])
               for i in issues), issues


def test_in_progress_responses_may_be_incomplete(checker: ProfileChecker) -> None:
    response = survey()
    response["status"] = "in-progress"
    response["item"] = response["item"][:2]
    assert checker.check(response) == []


def test_unknown_questionnaire_is_a_warning(checker: ProfileChecker) -> None:
    response = survey()
    response["questionnaire"] = "https://example.org/Questionnaire/unknown"
    [issue] = [i.to_fhir() for i in checker.check(response)]
    assert (issue["severity"], issue["code"], issue["expression"]) == (
        "warning", "not-found", ["QuestionnaireResponse.questionnaire"])


def test_contained_questionnaire(checker: ProfileChecker) -> None:
    response = {"resourceType": "QuestionnaireResponse", "status": "completed",
                "questionnaire": "#q", "contained": [{
                    "resourceType": "Questionnaire", "id": "q", "status": "active",
                    "item": [{"linkId": "a", "type": "boolean", "required": True}]}],
                "item": [_answer("a", {"valueInteger": 1})]}
    assert [i.code for i in checker.check(response)] == ["structure"]


def test_stored_questionnaire_through_the_api(client: FlaskClient) -> None:
    url = "https://example.org/Questionnaire/stored-phq2"
    questionnaire = {"resourceType": "Questionnaire", "url": url, "status": "active",
                     "item": [{"linkId": "q1", "type": "integer", "required": True}]}
    assert client.post("/Questionnaire", json=questionnaire,
                       headers=FHIR_JSON).status_code == 201
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse", "questionnaire": url, "status": "completed",
        "item": [_answer("q1", {"valueString": "one"})]}
    rejected = client.post("/QuestionnaireResponse", json=response, headers=FHIR_JSON)
    assert rejected.status_code == 422
    assert rejected.get_json()["issue"][0]["expression"] == [
        "QuestionnaireResponse.item[0].answer[0]"]
    response["item"][0]["answer"] = [{"valueInteger": 1}]
    assert client.post("/QuestionnaireResponse", json=response,
                       headers=FHIR_JSON).status_code == 201


def test_survey_through_the_api(client: FlaskClient) -> None:
    # a reaction report names a recorded dose of its subject (fhir_server/campaign/reactions.py)
    assert client.post("/Immunization", headers=FHIR_JSON, json={
        "resourceType": "Immunization", "status": "completed",
        "vaccineCode": {"coding": [{"system": f"{CS}/vn-covid19-vaccine",
                                    "code": "pfizer-biontech"}]},
        "patient": {"reference": "Patient/p1"},
        "occurrenceDateTime": "2021-08-01T09:00:00+07:00"}).status_code == 201
    assert client.post("/QuestionnaireResponse", json=survey(),
                       headers=FHIR_JSON).status_code == 201
    broken = survey()
    broken["item"].pop(1)
    response = client.post("/QuestionnaireResponse/$validate", json=broken, headers=FHIR_JSON)
    assert response.status_code == 200
    assert response.get_json()["issue"][0]["code"] == "required"
