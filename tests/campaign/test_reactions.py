"""Reaction reports read without a server (FHIR R4 questionnaireresponse.html answers;
adverseevent.html seriousness): answers by linkId with their FHIRPath, the red flags taken from
ValueSet vn-red-flag-reaction and severity, the retry key, the AdverseEvent written."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_server.campaign.answers import answers, first, reference_id
from fhir_server.campaign.reaction_records import PROFILE, adverse_event
from fhir_server.campaign.reactions import SURVEY, is_report, parse, report_key, serious
from fhir_server.errors import Unprocessable
from fhir_server.storage.base import StoredVersion
from tests.api.test_reaction_reports import report


def _codes(response: dict[str, Any]) -> list[str | None]:
    return [a.code for a in parse(response).flags]


def test_answers_carry_their_path() -> None:
    found = answers(report("p1", immunization="Immunization/9"))
    dose = first(found, "immunization")
    assert dose is not None
    assert dose.path == "QuestionnaireResponse.item[0].answer[0].valueReference"
    assert reference_id(dose.value, "Immunization") == "9"
    nested = answers({"item": [{"linkId": "g", "item": [{"linkId": "x", "answer": [
        {"valueString": "a", "item": [{"linkId": "y", "answer": [{"valueInteger": 1}]}]}]}]}]})
    assert [(a.link, a.path) for a in nested] == [
        ("x", "QuestionnaireResponse.item[0].item[0].answer[0].valueString"),
        ("y", "QuestionnaireResponse.item[0].item[0].answer[0].item[0].answer[0].valueInteger")]


@pytest.mark.parametrize(("symptoms", "flags", "severity", "expected"), [
    (("sot", "dau-cho-tiem"), (), "mild", []),
    (("sot", "kho-tho"), (), "moderate", ["kho-tho"]),
    (("co-giat",), ("co-giat", "phan-ve"), "moderate", ["co-giat", "phan-ve"]),
    (("viem-co-tim",), (), "severe", ["viem-co-tim", "severe"]),
    (("sot",), (), "severe", ["severe"]),
])
def test_red_flags_come_from_the_value_set(symptoms: tuple[str, ...], flags: tuple[str, ...],
                                           severity: str, expected: list[str]) -> None:
    assert _codes(report("p1", symptoms=symptoms, flags=flags, severity=severity)) == expected


def test_report_status_and_subject() -> None:
    assert is_report(report("p1"))
    assert not is_report({**report("p1"), "status": "in-progress"})
    assert is_report({**report("p1"), "questionnaire": f"{SURVEY}|0.1.0"})
    with pytest.raises(Unprocessable) as refused:
        parse({**report("p1"), "subject": {"reference": "Group/1"}})
    assert refused.value.issues[0].expression == ("QuestionnaireResponse.subject",)


def test_the_key_is_the_identifier_else_the_content() -> None:
    one, other = report("p1", key="k-1"), report("p1", key="k-1", symptoms=("met-moi",))
    assert report_key(one) == report_key(other)  # the identifier decides
    assert report_key(report("p1")) == report_key(report("p1"))
    assert report_key(report("p1")) != report_key(report("p1", symptoms=("met-moi",)))


def test_the_adverse_event() -> None:
    from datetime import UTC, datetime

    response = report("p1", symptoms=("sot", "kho-tho"), severity="moderate",
                      care="Nhập viện (hospitalised)")
    dose = StoredVersion("Immunization", "d1", 1, datetime.now(UTC), {
        "resourceType": "Immunization", "location": {"reference": "Location/l1"}})
    event = adverse_event(parse(response), response, dose, datetime.now(UTC))
    assert event["meta"]["profile"] == [PROFILE]
    assert event["event"]["coding"][0] == {
        "system": "https://fhir.moh.gov.vn/terminology/CodeSystem/vn-post-vaccination-reaction",
        "code": "kho-tho", "display": "Khó thở"}
    assert event["event"]["text"] == "Sốt, Khó thở"  # each symptom once
    assert event["seriousness"]["coding"][0]["code"] == "serious"
    assert event["suspectEntity"] == [{"instance": {"reference": "Immunization/d1"}}]
    assert event["location"] == {"reference": "Location/l1"}
    mild = report("p1")
    assert not serious(parse(mild))


def test_the_adverse_event_conforms_to_its_profile() -> None:
    from datetime import UTC, datetime

    from fhir_server.model.parse import validate_resource
    from fhir_server.settings import Settings
    from fhir_server.validation.profiles import profile_checker

    response = report("p1", symptoms=("sot", "co-giat"), severity="severe", key="k-2")
    dose = StoredVersion("Immunization", "d1", 1, datetime.now(UTC), {
        "resourceType": "Immunization"})
    event = adverse_event(parse(response), {**response, "author": {"reference": "Patient/p0"}},
                          dose, datetime.now(UTC))
    checked = validate_resource(event, "AdverseEvent")
    issues = profile_checker(Settings()).check(checked)
    assert [i for i in issues if i.severity in ("error", "fatal", "warning")] == []
    assert event["recorder"] == {"reference": "Patient/p0"}
