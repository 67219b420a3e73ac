"""validate_resource takes the fast path when it can, and answers as the reference path does.

The reference (fast_path=False) runs the JSON-type checks (json.html#primitive) and
fhir.resources' model_validate; the fast path skips both only for resources its checker
certifies, so a valid resource is returned as is without the model, and every invalid one
gets the reference's OperationOutcome issues (code, expression, diagnostics).
"""

from __future__ import annotations

from typing import Any

import pytest

from fhir_server.errors import InvalidRequest
from fhir_server.model import parse
from fhir_server.model.parse import validate_resource

IMMUNIZATION = {"resourceType": "Immunization", "status": "completed",
                "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx",
                                            "code": "208"}]},
                "patient": {"reference": "Patient/p1"},
                "occurrenceDateTime": "2021-08-01T09:00:00+07:00",
                "protocolApplied": [{"doseNumberPositiveInt": 1}]}


def _issues(data: Any, fast_path: bool) -> list[tuple[str, tuple[str, ...], str]]:
    with pytest.raises(InvalidRequest) as caught:
        validate_resource(data, fast_path=fast_path)
    return [(i.code, i.expression, i.diagnostics) for i in caught.value.issues]


def test_a_valid_resource_skips_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_model(type_name: str) -> Any:
        raise AssertionError("the model was asked")

    monkeypatch.setattr(parse, "_model_class", no_model)
    assert validate_resource(IMMUNIZATION) is IMMUNIZATION
    with pytest.raises(AssertionError):
        validate_resource(IMMUNIZATION, fast_path=False)


@pytest.mark.parametrize("change", [
    {"status": 1},  # json.html#primitive: a code is a JSON string
    {"status": None},  # json.html: null is not a value
    {"occurrenceDateTime": "2021-02-30"},  # datatypes.html#dateTime: a real date
    {"occurrenceDateTime": "2021-08-01T09:00:00"},  # a time needs a time zone
    {"occurrenceString": "yesterday"},  # formats.html#choice: one of occurrence[x]
    {"occurenceDateTime": "2021-08-01"},  # an unknown element
    {"protocolApplied": [{"doseNumberPositiveInt": 0}]},  # positiveInt >= 1
    {"protocolApplied": {"doseNumberPositiveInt": 1}},  # json.html#arrays
    {"lotNumber": "", "note": []},  # json.html: no empty values
    {"patient": {"reference": "Spaceship/1"}},  # references.html: a resource type
    {"contained": [{"resourceType": "Spaceship"}]},
])
def test_an_invalid_resource_gets_the_reference_answer(change: dict[str, Any]) -> None:
    data = {**IMMUNIZATION, **change}
    assert _issues(data, True) == _issues(data, False)


def test_missing_required_element_same_answer() -> None:
    # immunization.html: status is 1..1
    data = {key: value for key, value in IMMUNIZATION.items() if key != "status"}
    issues = _issues(data, True)
    assert issues == _issues(data, False)
    assert [expression for _code, expression, _text in issues] == [("Immunization.status",)]


def test_the_reference_exceptions_still_apply_on_the_fast_path() -> None:
    # extensibility.html: `_valueString` beside an Extension's valueString; XML's \s (a code
    # holding a no-break space): accepted by both paths although fhir.resources refuses them
    extension = {"url": "http://example.org/x", "valueString": "a",
                 "_valueString": {"extension": [{"url": "http://example.org/y",
                                                 "valueCode": "b"}]}}
    coding = {"system": "http://example.org/codes", "code": "A\u00a0\u00a0B"}
    data = {**IMMUNIZATION, "extension": [extension], "vaccineCode": {"coding": [coding]}}
    for fast_path in (True, False):
        assert validate_resource(data, fast_path=fast_path) is data
