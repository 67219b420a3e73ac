"""Post-vaccination reaction reports (Phản ứng sau tiêm), issue 14 point 7, walked over HTTP
the way the app does: the citizen answers the vn-post-vaccination-survey Questionnaire with a
plain `POST /QuestionnaireResponse` (questionnaireresponse.html); the server records an
AdverseEvent (adverseevent.html, profile vn-adverse-event-immunization) on the subject's own
dose; a red-flag answer also raises a Flag (flag.html), an alert Communication to the
administering site and the citizen's in-app notice (communication.html), and the write's
OperationOutcome (Prefer: return=OperationOutcome) carries the 115 advice. Retries make no
second AdverseEvent; a dose that is not the subject's, or a missing answer, is a 422 naming
the field with nothing written."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask

from fhir_server.campaign.reaction_records import PROFILE, REACTION_SYSTEM
from fhir_server.notify.gateways import FileSink
from tests.api.campaign_world import FHIR_JSON, Campaign, expressions

SURVEY = "https://fhir.moh.gov.vn/fhir/Questionnaire/vn-post-vaccination-survey"
TERMINOLOGY = "https://fhir.moh.gov.vn/terminology/CodeSystem"
REACTION = f"{TERMINOLOGY}/vn-post-vaccination-reaction"
VACCINE = {"system": f"{TERMINOLOGY}/vn-covid19-vaccine", "code": "pfizer-biontech"}
SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
SELF_CARE = "Tự theo dõi, chăm sóc tại nhà (self-care)"
EMERGENCY = "Gọi cấp cứu 115 (emergency call 115)"


class World(Campaign):
    """The campaign world plus a site Organization and one dose each for A, A's daughter, B."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.org = self.create("practitioner", {
            "resourceType": "Organization", "name": "Trung tâm Y tế quận Cầu Giấy"})["id"]
        self.ward = self.create("practitioner", {
            "resourceType": "Location", "name": "Điểm tiêm THCS Dịch Vọng",
            "managingOrganization": {"reference": f"Organization/{self.org}"}})["id"]
        self.dose = {
            "a": self.immunization(self.a["patient"], "2021-08-01",
                                   {"actor": {"reference": f"Organization/{self.org}"}}),
            "family": self.immunization(self.family, "2021-08-02",
                                        {"actor": {"reference": f"Practitioner/{self.doctor}"}},
                                        location=self.ward),
            "b": self.immunization(self.b["patient"], "2021-08-01",
                                   {"actor": {"reference": f"Organization/{self.org}"}})}

    def immunization(self, patient: str, day: str, performer: dict[str, Any],
                     location: str | None = None) -> str:
        """A completed dose given to a Patient on a day; its id."""
        dose: dict[str, Any] = {
            "resourceType": "Immunization", "status": "completed",
            "vaccineCode": {"coding": [VACCINE]}, "patient": {"reference": f"Patient/{patient}"},
            "occurrenceDateTime": f"{day}T09:00:00+07:00", "performer": [performer],
            "protocolApplied": [{"doseNumberPositiveInt": 1}], "lotNumber": f"L-{day}"}
        if location:
            dose["location"] = {"reference": f"Location/{location}"}
        return str(self.create("practitioner", dose)["id"])

    def count(self, who: str, query: str) -> int:
        """How many resources a search finds."""
        response = self.send(who, "GET", f"/{query}{'&' if '?' in query else '?'}"
                                         "_summary=count")
        assert response.status_code == 200, response.get_json()
        return int(response.get_json()["total"])

    def found(self, who: str, query: str) -> list[dict[str, Any]]:
        """The resources a search finds."""
        response = self.send(who, "GET", f"/{query}")
        assert response.status_code == 200, response.get_json()
        return [e["resource"] for e in response.get_json().get("entry", [])]


@pytest.fixture(scope="module")
def world(make_app: Callable[..., Flask]) -> World:
    return World(make_app(auth_required=True))


def _answer(link: str, *values: dict[str, Any]) -> dict[str, Any]:
    return {"linkId": link, "answer": list(values)}


def report(patient: str, day: str = "2021-08-01", symptoms: tuple[str, ...] = ("sot",),
           flags: tuple[str, ...] = (), severity: str = "mild", care: str = SELF_CARE,
           immunization: str | None = None, key: str | None = None,
           leave_out: str | None = None) -> dict[str, Any]:
    """A completed reaction report about a Patient (as the app sends it)."""
    items = []
    if immunization:
        items.append(_answer("immunization", {"valueReference": {"reference": immunization}}))
    items += [_answer("vaccine", {"valueCoding": VACCINE}), _answer("dose", {"valueInteger": 1}),
              _answer("vaccination-date", {"valueDate": day}),
              _answer("target-group", {"valueCoding": {
                  "system": f"{TERMINOLOGY}/vn-covid19-priority-group", "code": "1"}}),
              _answer("onset", {"valueDateTime": f"{day}T20:00:00+07:00"}),
              _answer("symptoms", *({"valueCoding": {"system": REACTION, "code": code}}
                                    for code in symptoms))]
    if flags:
        items.append(_answer("red-flags", *({"valueCoding": {"system": REACTION, "code": c}}
                                            for c in flags)))
    items += [_answer("severity", {"valueCoding": {"system": SEVERITY, "code": severity}}),
              _answer("care", {"valueString": care})]
    body: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse", "questionnaire": SURVEY, "status": "completed",
        "subject": {"reference": f"Patient/{patient}"}, "authored": f"{day}T21:00:00+07:00",
        "item": [i for i in items if i["linkId"] != leave_out]}
    if key:
        body["identifier"] = {"system": "urn:uuid", "value": key}
    return body


def post(world: World, who: str, body: dict[str, Any], **headers: str) -> Any:
    """POST /QuestionnaireResponse with extra headers."""
    return world.http.post("/QuestionnaireResponse", json=body, headers={
        "Content-Type": FHIR_JSON, **world.tokens[who], **headers})


def test_mild_reaction_is_an_adverse_event_on_the_own_dose(world: World) -> None:
    patient = world.a["patient"]
    sent = post(world, "A", report(patient, key=str(uuid.uuid4())))
    assert sent.status_code == 201, sent.get_json()
    events = world.found("A", f"AdverseEvent?subject=Patient/{patient}")
    assert len(events) == 1
    event = events[0]
    assert event["meta"]["profile"] == [PROFILE]
    assert event["meta"]["tag"][0]["system"] == REACTION_SYSTEM  # the report key
    assert event["suspectEntity"] == [{"instance": {"reference":
                                                    f"Immunization/{world.dose['a']}"}}]
    assert event["seriousness"]["coding"][0]["code"] == "non-serious"
    assert event["event"]["coding"][0]["code"] == "sot"
    assert event["date"] == "2021-08-01T20:00:00+07:00"
    assert event["extension"][0]["valueReference"]["identifier"] == sent.get_json()["identifier"]
    assert world.count("practitioner", f"Flag?subject=Patient/{patient}") == 0


def test_retries_make_no_second_adverse_event(world: World) -> None:
    patient, key = world.a["patient"], str(uuid.uuid4())
    body = report(patient, day="2021-08-01", symptoms=("dau-dau",), key=key)
    before = world.count("A", f"AdverseEvent?subject=Patient/{patient}")
    assert post(world, "A", body).status_code == 201
    again = post(world, "A", body, **{"If-None-Exist": f"identifier=urn:uuid|{key}"})
    assert again.status_code == 200  # the conditional create finds the first report
    assert post(world, "A", body).status_code == 201  # a plain resend: a second copy ...
    assert world.count("A", f"AdverseEvent?subject=Patient/{patient}") == before + 1  # ... one
    plain = report(patient, symptoms=("met-moi",))  # no identifier: keyed by its content
    assert post(world, "A", plain).status_code == 201
    assert post(world, "A", plain).status_code == 201
    assert world.count("A", f"AdverseEvent?subject=Patient/{patient}") == before + 2


def test_red_flag_alerts_the_site_and_answers_the_citizen(world: World) -> None:
    member = world.family
    sent = post(world, "A", report(member, day="2021-08-02", symptoms=("sot", "kho-tho"),
                                   flags=("phan-ve",), severity="severe", care=EMERGENCY),
                Prefer="return=OperationOutcome")
    assert sent.status_code == 201, sent.get_json()
    advice = [i for i in sent.get_json()["issue"] if "red flags" in i["diagnostics"]]
    assert advice and advice[0]["severity"] == "information" and "115" in advice[0]["diagnostics"]
    assert advice[0]["expression"] == ["QuestionnaireResponse.item[5].answer[1].valueCoding",
                                       "QuestionnaireResponse.item[6].answer[0].valueCoding",
                                       "QuestionnaireResponse.item[7].answer[0].valueCoding"]
    event = world.found("A", f"AdverseEvent?subject=Patient/{member}")[0]
    assert event["seriousness"]["coding"][0]["code"] == "serious"
    assert event["event"]["coding"][0]["code"] == "kho-tho"
    assert event["location"] == {"reference": f"Location/{world.ward}"}
    flags = world.found("practitioner", f"Flag?subject=Patient/{member}")
    assert len(flags) == 1 and flags[0]["status"] == "active"
    assert {c["code"] for c in flags[0]["code"]["coding"]} == {"kho-tho", "phan-ve", "severe"}
    assert flags[0]["extension"][0]["valueReference"] == {
        "reference": f"AdverseEvent/{event['id']}"}
    alerts = world.found("practitioner",
                         f"Communication?recipient=Organization/{world.org}&category=alert")
    assert [a["about"][0]["reference"] for a in alerts] == [f"AdverseEvent/{event['id']}"]
    assert alerts[0]["priority"] == "asap" and "Khó thở" in alerts[0]["payload"][0][
        "contentString"]
    notices = world.found("A", f"Communication?recipient=Patient/{member}"
                               "&category=notification")
    assert [n["topic"]["coding"][0]["code"] for n in notices] == ["red-flag-received"]
    assert "115" in notices[0]["payload"][0]["contentString"]
    # ...and by one SMS to the account holder who linked the member (after-write effect)
    sink = FileSink(world.app.extensions["fhir"].settings.sms_gateway.split(":", 1)[1])
    texts = [m["text"] for m in sink.messages(world.a["e164"]) if "115" in m["text"]]
    assert len(texts) == 1


def test_dose_of_someone_else_is_refused_naming_the_answer(world: World) -> None:
    patient = world.a["patient"]
    before = (world.count("admin", "QuestionnaireResponse?questionnaire=" + SURVEY),
              world.count("admin", "AdverseEvent"), world.count("admin", "Flag"))
    theirs = f"Immunization/{world.dose['b']}"
    for who in ("A", "practitioner"):  # hidden from A, visible to the site: the same answer
        refused = post(world, who, report(patient, immunization=theirs, flags=("co-giat",)))
        assert refused.status_code == 422, refused.get_json()
        assert expressions(refused) == ["QuestionnaireResponse.item[0].answer[0].valueReference"]
        assert "not a recorded dose" in refused.get_json()["issue"][0]["diagnostics"]
    no_dose = post(world, "A", report(patient, day="2021-09-09"))
    assert no_dose.status_code == 422
    assert expressions(no_dose) == ["QuestionnaireResponse.item[2].answer[0].valueDate"]
    direct = world.send("A", "POST", "/AdverseEvent", {
        "resourceType": "AdverseEvent", "actuality": "actual",
        "subject": {"reference": f"Patient/{patient}"}, "date": "2021-08-01",
        "suspectEntity": [{"instance": {"reference": theirs}}]})
    assert direct.status_code in (403, 404, 422)
    after = (world.count("admin", "QuestionnaireResponse?questionnaire=" + SURVEY),
             world.count("admin", "AdverseEvent"), world.count("admin", "Flag"))
    assert after == before


def test_own_dose_named_and_missing_answer(world: World) -> None:
    own = post(world, "A", report(world.a["patient"], symptoms=("dau-co",),
                                  immunization=f"Immunization/{world.dose['a']}"))
    assert own.status_code == 201, own.get_json()
    missing = post(world, "A", report(world.a["patient"], leave_out="onset"))
    assert missing.status_code == 422
    assert "QuestionnaireResponse.item.where(linkId='onset')" in expressions(missing)


def test_every_door_runs_the_rule(world: World) -> None:
    member, before = world.family, world.count("admin", "AdverseEvent")
    entry = {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "request": {
        "method": "POST", "url": "QuestionnaireResponse"}}
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {**entry, "resource": report(member, day="2021-08-02", symptoms=("buon-non",))}]}
    assert world.send("A", "POST", "/", bundle).status_code == 200
    bad = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {**entry, "resource": report(member, immunization=f"Immunization/{world.dose['b']}")}]}
    assert world.send("A", "POST", "/", bad).status_code == 422
    draft = {**report(member, day="2021-08-02", symptoms=("on-lanh",)), "status": "in-progress"}
    created = world.send("A", "POST", "/QuestionnaireResponse", draft)
    assert created.status_code == 201
    assert world.count("admin", "AdverseEvent") == before + 1  # a draft records nothing
    done = {**created.get_json(), "status": "completed"}
    assert world.send("A", "PUT", f"/QuestionnaireResponse/{done['id']}", done
                      ).status_code == 200
    assert world.count("admin", "AdverseEvent") == before + 2


def test_parallel_resends_record_one_adverse_event(world: World) -> None:
    patient = world.a["patient"]
    before = world.count("A", f"AdverseEvent?subject=Patient/{patient}")
    body = report(patient, symptoms=("chong-mat",), key=str(uuid.uuid4()))
    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = list(pool.map(lambda _i: post(world, "A", body).status_code, range(4)))
    assert codes == [201] * 4
    assert world.count("A", f"AdverseEvent?subject=Patient/{patient}") == before + 1


def test_junk_answers_never_fail_the_server(world: World) -> None:
    patient = world.a["patient"]
    for junk in ({"display": "mũi 1"}, {"reference": "Immunization/"},
                 {"reference": "Patient/" + patient}, {"reference": "x" * 300}):
        body = report(patient, immunization="Immunization/x")
        body["item"][0]["answer"] = [{"valueReference": junk}]
        assert post(world, "A", body).status_code in (400, 403, 404, 422)
    nobody = {**report(patient), "subject": {"display": "An"}}
    assert post(world, "A", nobody).status_code in (400, 403, 422)
