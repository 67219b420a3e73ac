"""check_json_types: FHIR JSON primitive types, control characters, string size and depth.

FHIR R4 json.html#primitive (booleans are JSON true/false, integers JSON numbers, everything else a
JSON string), datatypes.html#string (no control characters, at most 1 MiB).
"""

from __future__ import annotations

from typing import Any

import pytest

from fhir_server.errors import InvalidRequest
from fhir_server.model.parse import validate_resource
from fhir_server.validation.json_types import MAX_DEPTH, MAX_STRING, check_json_types


def _paths(resource: dict[str, Any]) -> list[str]:
    """The expressions check_json_types reports."""
    return [issue.expression[0] for issue in check_json_types(resource, resource["resourceType"])]


def _immunization(**fields: Any) -> dict[str, Any]:
    """A valid Immunization with extra fields."""
    return {"resourceType": "Immunization", "status": "completed",
            "vaccineCode": {"text": "COVID-19"}, "patient": {"reference": "Patient/p1"},
            "occurrenceDateTime": "2021-08-01", **fields}


@pytest.mark.parametrize(("resource", "path"), [
    ({"resourceType": "Patient", "active": "yes"}, "Patient.active"),
    ({"resourceType": "Patient", "active": 1}, "Patient.active"),
    ({"resourceType": "Patient", "multipleBirthInteger": "3"}, "Patient.multipleBirthInteger"),
    ({"resourceType": "Patient", "multipleBirthInteger": 2.5}, "Patient.multipleBirthInteger"),
    ({"resourceType": "Patient", "birthDate": 19850312}, "Patient.birthDate"),
    ({"resourceType": "Patient", "name": [{"given": [7]}]}, "Patient.name[0].given[0]"),
    ({"resourceType": "Patient", "name": {"family": "x"}}, "Patient.name"),
    ({"resourceType": "Patient", "name": ["x"]}, "Patient.name[0]"),
    (_immunization(primarySource="yes"), "Immunization.primarySource"),
    (_immunization(protocolApplied=[{"doseNumberPositiveInt": "2"}]),
     "Immunization.protocolApplied[0].doseNumberPositiveInt"),
    (_immunization(doseQuantity={"value": "0.5"}), "Immunization.doseQuantity.value"),
])
def test_coerced_json_types_are_refused(resource: dict[str, Any], path: str) -> None:
    # json.html#primitive: the JSON type is part of the format; "yes", 1, "3" are not coerced
    assert _paths(resource) == [path]


def test_right_json_types_pass() -> None:
    # json.html#primitive: decimals may be integers in JSON; booleans true/false
    resource = _immunization(primarySource=True, doseQuantity={"value": 1},
                             protocolApplied=[{"doseNumberPositiveInt": 2}])
    assert _paths(resource) == []
    assert _paths({"resourceType": "Patient", "active": False, "multipleBirthInteger": 3,
                   "_birthDate": {"extension": [{"url": "http://x", "valueInteger": 1}]}}) == []


def test_contained_resources_are_typed_by_their_own_resource_type() -> None:
    # references.html#contained: a contained resource is a full resource of its own type
    resource = _immunization(contained=[{"resourceType": "Patient", "id": "c", "active": "no"}])
    assert _paths(resource) == ["Immunization.contained[0].active"]


@pytest.mark.parametrize("text", ["a\x00b", "bell\x07", "esc\x1b[31m", "\x0c"])
def test_control_characters_are_refused(text: str) -> None:
    # datatypes.html#string: XML 1.0 characters only (tab, LF, CR allowed)
    assert _paths({"resourceType": "Patient", "name": [{"family": text}]}) == [
        "Patient.name[0].family"]
    assert _paths({"resourceType": "Patient", "name": [{"family": "tab\tline\nret\r"}]}) == []


def test_strings_over_one_mebibyte_are_refused() -> None:
    # datatypes.html#string: "Strings SHALL NOT exceed 1MB"; base64Binary is not bound by it
    assert _paths({"resourceType": "Patient", "name": [{"family": "x" * (MAX_STRING + 1)}]}) == [
        "Patient.name[0].family"]
    photo = {"contentType": "image/png", "data": "QUJD" * (MAX_STRING // 3)}
    assert _paths({"resourceType": "Patient", "photo": [photo]}) == []


def test_nesting_is_bounded_at_parse_time() -> None:
    # issue 12 point 8: extensions nested 300 deep gave a 500; now a 400 at the limit
    node: dict[str, Any] = {"url": "http://x", "valueString": "leaf"}
    for _ in range(300):
        node = {"url": "http://x", "extension": [node]}
    with pytest.raises(InvalidRequest) as caught:
        check_json_types({"resourceType": "Patient", "extension": [node]}, "Patient")
    assert caught.value.status == 400
    assert f"{MAX_DEPTH} levels" in caught.value.issues[0].diagnostics


def test_validate_resource_refuses_coercion_with_the_path() -> None:
    # http.html#create: 400 with an OperationOutcome naming the element
    with pytest.raises(InvalidRequest) as caught:
        validate_resource({"resourceType": "Patient", "active": "yes"}, "Patient")
    assert [issue.expression[0] for issue in caught.value.issues] == ["Patient.active"]
