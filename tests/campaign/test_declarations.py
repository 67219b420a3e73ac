"""Health declaration rules without a server (questionnaireresponse.html; the
vn-commune-in-province rule of validation/custom_rules.py): the commune lies in the province,
and who the declaration is for decides subject and author."""

from __future__ import annotations

import pytest

from fhir_server.campaign.declarations import OTHER, check, is_declaration
from fhir_server.errors import Unprocessable
from tests.api.test_health_declarations import CA_MAU, DAT_MUI, FAMILY, declaration


def _refused(body: dict[str, object]) -> tuple[str, ...]:
    with pytest.raises(Unprocessable) as refused:
        check(body)
    return refused.value.issues[0].expression


def test_good_declarations_pass() -> None:
    check(declaration("a", "a"))
    check(declaration("a", "f", FAMILY, CA_MAU, DAT_MUI))
    check(declaration("a", None, OTHER, person={"name": "Tư", "birthDate": "1950-01-01"}))
    assert is_declaration(declaration("a", "a"))
    assert not is_declaration({**declaration("a", "a"), "status": "in-progress"})


def test_commune_outside_its_province() -> None:
    assert _refused(declaration("a", "a", commune=DAT_MUI)) == (
        "QuestionnaireResponse.item[1].item[2].answer[0].valueCoding",)


def test_who_it_is_for() -> None:
    assert _refused(declaration("a", None)) == ("QuestionnaireResponse.subject",)
    assert _refused(declaration("a", "a", OTHER)) == ("QuestionnaireResponse.subject",)
    anonymous = declaration("a", None, OTHER)
    del anonymous["author"]
    assert _refused(anonymous) == ("QuestionnaireResponse.author",)
