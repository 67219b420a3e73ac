"""This server's own SearchParameters (search/custom.py; FHIR R4 searchparameter.html): the
declarations' `area` is a token parameter of QuestionnaireResponse, extracted like any other."""

from __future__ import annotations

from fhir_server.search.custom import custom_parameters_for
from fhir_server.search.registry import indexed_params, lookup


def test_area_is_a_supported_token_parameter() -> None:
    assert set(custom_parameters_for("QuestionnaireResponse")) == {"area"}
    assert set(custom_parameters_for("Patient")) == {"province", "commune"}  # test_custom_campaign
    area = lookup("QuestionnaireResponse", "area")
    assert area is not None and area.kind == "token" and area.supported
    assert area.url.endswith("/SearchParameter/vn-questionnaireresponse-area")
    assert "area" in {p.code for p in indexed_params("QuestionnaireResponse")}
