"""The Questionnaires (health declaration, post-vaccination reaction survey), the small
ValueSets the profiles bind to that terminology/ does not hold, and the custom
SearchParameter `area` of health declarations."""

from __future__ import annotations

from typing import Any

from common import BASE, REACTION, SERIOUSNESS, VS, common, terminology

SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
SELF = "Bản thân (self)"
FAMILY = "Người thân trong gia đình (a linked family member)"
OTHER = "Người khác không có tài khoản (another person without an account)"


def _value_set(id: str, name: str, title: str, include: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
    return {"resourceType": "ValueSet", "id": id, "url": f"{VS}/{id}", "name": name,
            "title": title, **common(), "immutable": False, "compose": {"include": [include]}}


def value_sets() -> list[dict[str, Any]]:
    """ValueSets bound by the profiles and the reaction survey."""
    return [
        _value_set("vn-immunization-status", "VnImmunizationStatus",
                   "Immunization status in the campaign (completed | not-done)",
                   {"system": "http://hl7.org/fhir/event-status",
                    "concept": [{"code": "completed"}, {"code": "not-done"}]}),
        _value_set("vn-adverse-event-seriousness", "VnAdverseEventSeriousness",
                   "Seriousness of a post-vaccination reaction",
                   {"system": SERIOUSNESS, "concept": [
                       {"code": "serious", "display": "Serious"},
                       {"code": "non-serious", "display": "Non-serious"}]}),
        _value_set("vn-appointment-type", "VnAppointmentType", "Kind of medical visit",
                   {"system": "http://terminology.hl7.org/CodeSystem/v2-0276", "concept": [
                       {"code": "CHECKUP", "display": "A routine check-up, such as an annual "
                        "physical"},
                       {"code": "EMERGENCY", "display": "Emergency appointment"},
                       {"code": "FOLLOWUP", "display": "A follow up visit from a previous "
                        "appointment"},
                       {"code": "ROUTINE", "display": "Routine appointment - default if not "
                        "valued"},
                       {"code": "WALKIN", "display": "A previously unscheduled walk-in visit"}]}),
        _value_set("vn-red-flag-reaction", "VnRedFlagReaction",
                   "Post-vaccination warning signs (Ministry of Health: go to a health facility "
                   "at once)", {"system": REACTION, "filter": [
                       {"property": "category", "op": "=", "value": "nghiem-trong"}]}),
    ]


def _item(link_id: str, text: str, kind: str, required: bool = True, **extra: Any
          ) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": link_id, "text": text, "type": kind}
    if required:
        item["required"] = True
    item.update(extra)
    return item


def _options(*texts: str) -> list[dict[str, Any]]:
    return [{"valueString": text} for text in texts]


def _questionnaire(id: str, name: str, title: str, description: str,  # noqa: A002
                   items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Questionnaire", "id": id, "url": f"{BASE}/Questionnaire/{id}",
            "name": name, "title": title, **common(), "description": description,
            "subjectType": ["Patient"], "item": items}


def health_declaration() -> dict[str, Any]:
    """Tờ khai y tế: the COVID-19 health declaration (contacts, travel, symptoms in 14 days)."""
    yes = {"operator": "=", "answerBoolean": True}
    return _questionnaire(
        "vn-health-declaration", "VnHealthDeclaration", "Tờ khai y tế (health declaration)",
        "COVID-19 health declaration modelled on the national form (khai báo y tế toàn dân): "
        "contact details, travel, symptoms and exposures in the last 14 days. For oneself or "
        "a linked family member the subject is that Patient; for another person without an "
        "account (declared-for = other) the subject is left out, the declarant is the author "
        "and the person is identified in the `person` group.", [
            _item("declared-for", "Khai báo cho (declaring for)", "choice", required=False,
                  answerOption=_options(SELF, FAMILY, OTHER)),
            _item("person", "Thông tin người được khai báo (the person declared for)", "group",
                  enableWhen=[{"question": "declared-for", "operator": "=",
                               "answerString": OTHER}], item=[
                _item("person.name", "Họ và tên (full name)", "string", maxLength=100),
                _item("person.birthDate", "Ngày sinh (date of birth)", "date"),
                _item("person.gender", "Giới tính (gender)", "choice", required=False,
                      answerValueSet="http://hl7.org/fhir/ValueSet/administrative-gender"),
                _item("person.cccd", "Số CCCD/CMND (identity card number)", "string",
                      required=False, maxLength=12),
                _item("person.phone", "Số điện thoại (phone)", "string", required=False,
                      maxLength=20)]),
            _item("contact", "Thông tin liên lạc (contact details)", "group", item=[
                _item("contact.phone", "Số điện thoại (phone)", "string"),
                _item("contact.province", "Tỉnh/thành phố nơi ở (province)", "choice",
                      answerValueSet=terminology("ValueSet", "vn-province")),
                _item("contact.commune", "Xã/phường nơi ở (commune)", "choice",
                      answerValueSet=terminology("ValueSet", "vn-commune")),
                _item("contact.address", "Số nhà, đường (street address)", "string",
                      required=False, maxLength=200)]),
            _item("travel", "Trong 14 ngày qua, có đi đến tỉnh/thành phố, quốc gia/vùng lãnh "
                  "thổ nào khác không? (travelled in the last 14 days)", "boolean"),
            _item("travel.places", "Nơi đã đến (places visited)", "string",
                  enableWhen=[{"question": "travel", **yes}]),
            _item("symptoms", "Trong 14 ngày qua, có dấu hiệu nào sau đây không? (symptoms in "
                  "the last 14 days)", "choice", repeats=True, answerOption=_options(
                      "Sốt (fever)", "Ho (cough)", "Khó thở (shortness of breath)",
                      "Viêm phổi (pneumonia)", "Đau họng (sore throat)",
                      "Mệt mỏi (fatigue)", "Mất vị giác hoặc khứu giác (loss of taste or smell)",
                      "Không có (none)")),
            _item("exposure.case", "Tiếp xúc người bệnh hoặc nghi ngờ mắc COVID-19 (contact "
                  "with a confirmed or suspected case)", "boolean"),
            _item("exposure.travel", "Tiếp xúc người từ nước/vùng có bệnh COVID-19 (contact "
                  "with someone from an affected country or area)", "boolean"),
            _item("exposure.symptomatic", "Tiếp xúc người có biểu hiện sốt, ho, khó thở, viêm "
                  "phổi (contact with someone with fever, cough, dyspnoea or pneumonia)",
                  "boolean"),
            _item("commitment", "Tôi cam kết thông tin khai là đúng sự thật (I declare the "
                  "information is true)", "boolean"),
        ])


def reaction_survey() -> dict[str, Any]:
    """Phiếu theo dõi phản ứng sau tiêm: the post-vaccination reaction survey."""
    return _questionnaire(
        "vn-post-vaccination-survey", "VnPostVaccinationSurvey",
        "Theo dõi phản ứng sau tiêm chủng (post-vaccination reaction survey)",
        "What the vaccinated person (or carer) reports after a COVID-19 vaccination. The "
        "subject is the vaccinated person; red-flag signs are the Ministry of Health's warning "
        "signs that require going to a health facility at once. `immunization` names the dose "
        "in the subject's record (else it is found by vaccine and date).", [
            _item("immunization", "Mũi tiêm trong sổ sức khỏe (the recorded dose)", "reference",
                  required=False),
            _item("vaccine", "Vắc xin đã tiêm (vaccine)", "choice",
                  answerValueSet=terminology("ValueSet", "vn-covid19-vaccine")),
            _item("dose", "Mũi tiêm thứ (dose number)", "integer"),
            _item("vaccination-date", "Ngày tiêm (vaccination date)", "date"),
            _item("target-group", "Nhóm đối tượng ưu tiên (priority target group)", "choice",
                  required=False,
                  answerValueSet=terminology("ValueSet", "vn-covid19-priority-group")),
            _item("onset", "Thời điểm bắt đầu có phản ứng (onset)", "dateTime"),
            _item("symptoms", "Các phản ứng (symptoms)", "choice", repeats=True,
                  answerValueSet=terminology("ValueSet", "vn-post-vaccination-reaction")),
            _item("red-flags", "Dấu hiệu cảnh báo cần đến cơ sở y tế ngay (red-flag signs)",
                  "choice", required=False, repeats=True,
                  answerValueSet=f"{VS}/vn-red-flag-reaction"),
            _item("severity", "Mức độ (severity)", "choice", answerOption=[
                {"valueCoding": {"system": SEVERITY, "code": code, "display": display}}
                for code, display in (("mild", "Nhẹ (mild)"), ("moderate", "Vừa (moderate)"),
                                      ("severe", "Nặng (severe)"))]),
            _item("care", "Xử trí / nơi đã đến khám (care sought)", "choice",
                  answerOption=_options(
                      "Không cần xử trí (none)", "Tự theo dõi, chăm sóc tại nhà (self-care)",
                      "Liên hệ điểm tiêm chủng (contacted the vaccination site)",
                      "Khám tại cơ sở y tế (seen at a health facility)",
                      "Nhập viện (hospitalised)", "Gọi cấp cứu 115 (emergency call 115)")),
            _item("care.facility", "Tên cơ sở y tế (health facility)", "string", required=False,
                  enableWhen=[{"question": "care", "operator": "=",
                               "answerString": "Khám tại cơ sở y tế (seen at a health facility)"},
                              {"question": "care", "operator": "=",
                               "answerString": "Nhập viện (hospitalised)"}],
                  enableBehavior="any"),
        ])


def search_parameters() -> list[dict[str, Any]]:
    """Custom SearchParameters: where a health declaration was made (province or commune)."""
    return [{
        "resourceType": "SearchParameter", "id": "vn-questionnaireresponse-area",
        "url": f"{BASE}/SearchParameter/vn-questionnaireresponse-area",
        "name": "VnQuestionnaireResponseArea", **common(),
        "description": "The province and commune answered in a health declaration "
                       "(contact.province, contact.commune): search by either code, e.g. "
                       "area=01 (Hà Nội) or area=00004, with or without the code system.",
        "code": "area", "base": ["QuestionnaireResponse"], "type": "token",
        "expression": "QuestionnaireResponse.item.where(linkId='contact').item.where("
                      "linkId='contact.province' or linkId='contact.commune').answer.value",
        "xpathUsage": "normal"}]


def all_questionnaires() -> list[dict[str, Any]]:
    """Every generated Questionnaire."""
    return [health_declaration(), reaction_survey()]
