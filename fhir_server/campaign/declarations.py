"""Health declarations (Khai báo y tế): completed QuestionnaireResponses to the
vn-health-declaration Questionnaire (questionnaireresponse.html), checked beyond what the
Questionnaire says on every write (rules.py):

- the commune lies in the province (the `vn-commune-in-province` rule of
  validation/custom_rules.py on the `contact.province` / `contact.commune` answers): 422 at
  the commune answer (`QuestionnaireResponse.item[i].item[j].answer[0].valueCoding`);
- who it is for (`declared-for`): oneself or a linked family member (absent: oneself) -> the
  subject is that Patient (422 at `QuestionnaireResponse.subject` when missing); another person
  without an account -> no subject (422 when there is one), the declarant as author (422 at
  `QuestionnaireResponse.author` when missing) and the person in the `person` group (name and
  birth date required by the Questionnaire).
Authorities find declarations by date and area: `authored` and the custom SearchParameter
`area` (profiles/searchparameters; province or commune code).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fhir_server.campaign.answers import answers, canonical, completed, first
from fhir_server.conformance import conformance_terminology
from fhir_server.errors import Unprocessable
from fhir_server.validation.custom_rules import (
    COMMUNE_EXTENSION,
    PROVINCE_EXTENSION,
    RuleContext,
    commune_in_province,
)

DECLARATION = "https://fhir.moh.gov.vn/fhir/Questionnaire/vn-health-declaration"
OTHER = "Người khác không có tài khoản (another person without an account)"


def is_declaration(resource: Mapping[str, Any] | None) -> bool:
    """True for a completed (or amended) health declaration."""
    return resource is not None and canonical(resource) == DECLARATION and completed(resource)


def check_area(resource: Mapping[str, Any]) -> None:
    """422 at the commune answer when the commune is not in the answered province."""
    found = answers(resource)
    province, commune = first(found, "contact.province"), first(found, "contact.commune")
    if province is None or commune is None or not province.code or not commune.code:
        return  # required answers are the Questionnaire's to check
    address = {"extension": [
        {"url": PROVINCE_EXTENSION, "valueCoding": {"code": province.code}},
        {"url": COMMUNE_EXTENSION, "valueCoding": {"code": commune.code}}]}
    issues = commune_in_province(address, dict(resource), commune.path,
                                 RuleContext(conformance_terminology(), {}))
    if issues:
        raise Unprocessable.at(f"contact.commune: {issues[0].diagnostics} (answer "
                               "contact.province)", commune.path, "business-rule")


def check_person(resource: Mapping[str, Any]) -> None:
    """The subject (oneself, a family member) or the declarant (another person) is given."""
    chosen = first(answers(resource), "declared-for")
    other = chosen is not None and chosen.value == OTHER
    if other and resource.get("subject"):
        raise Unprocessable.at("A declaration for a person without an account has no subject "
                               "(the person is identified in the `person` answers)",
                               "QuestionnaireResponse.subject", "business-rule")
    if other and not resource.get("author") and not resource.get("source"):
        raise Unprocessable.at("A declaration for another person names the declarant as "
                               "author", "QuestionnaireResponse.author", "required")
    if not other and not resource.get("subject"):
        raise Unprocessable.at("A declaration for oneself or a family member has that Patient "
                               "as subject", "QuestionnaireResponse.subject", "required")


def check(resource: Mapping[str, Any]) -> None:
    """Every declaration rule (reads nothing from the store)."""
    check_area(resource)
    check_person(resource)
