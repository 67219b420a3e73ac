"""The FHIRPath engine of profile invariants (http://hl7.org/fhirpath/N1/): the fast subset
gives the same results as fhirpathpy (the reference used as fallback), follows the
three-valued logic of section 6.5 and singleton evaluation of 4.5, and falls back for the rest.
"""

from __future__ import annotations

from typing import Any

import pytest

from fhir_server.validation.fhirpath import EvaluationError, _slow, compile_fhirpath
from fhir_server.validation.fhirpath_parse import Unsupported, parse

PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "identifier": [{"system": "urn:vn:cccd", "value": "001085012345"},
                   {"system": "urn:vn:bhyt", "value": "DN4010123456789"}],
    "name": [{"use": "official", "family": "Nguyễn", "given": ["Văn", "An"]}],
    "telecom": [{"system": "phone", "value": "+84912345678"}],
    "gender": "male", "birthDate": "1985-03-12",
    "extension": [{"url": "urn:x", "valueCoding": {"system": "urn:s", "code": "c"}}],
    "address": [{"country": "VN", "extension": [{"url": "urn:p", "valueCode": "01"}]}],
}
SAME_AS_FHIRPATHPY = [
    "identifier.where(system = 'urn:vn:cccd').all(value.matches('^[0-9]{12}$'))",
    "telecom.where(system = 'phone').all(value.matches('^[+][1-9][0-9]{7,14}$'))",
    "name.exists()", "Patient.name.given.count()", "name.given | name.family",
    "gender in ('male' | 'female')", "extension('urn:x').value.code",
    "extension('urn:x').value.code = 'c'", "birthDate.exists() implies gender.exists()",
    "identifier.value.first().startsWith('00')", "{}", "name.given[1]",
    "address.where(country.empty() or country = 'VN').all(extension('urn:p').exists())",
    "(name.family.exists() and name.given.exists()).not()", "name.family.length()",
    "%resource.gender = 'male'", "gender != 'female'", "name.given.select($this.length())",
    "identifier.system.isDistinct()", "telecom.exists(system = 'phone')",
    "name.given contains 'An'", "gender = 'male' xor birthDate.exists()", "{} implies false",
    "false implies {}", "true and {}", "{} or true", "{} and false", "name.given.empty().not()",
    "identifier.value.first().endsWith('45')", "name.family.contains('guy')",
    "identifier.last().system", "name.given.distinct().count()", "name.given = name.given",
    "identifier.system = 'urn:vn:cccd'", "gender.exists() and {}", "'x' in ('a' | 'b')",
    "1 in (1 | 2 | 1)", "('a' | 'b' | 'a').count()", "{} in ('a' | 'b')",
]


@pytest.mark.parametrize("expression", SAME_AS_FHIRPATHPY)
def test_fast_path_matches_fhirpathpy(expression: str) -> None:
    compiled = compile_fhirpath(expression)
    assert compiled.fast is not None, expression
    expected = list(_slow(expression)(PATIENT, {"resource": PATIENT}))
    assert compiled.evaluate(PATIENT, PATIENT) == expected


@pytest.mark.parametrize("expression", ["identifier.count() > 1", "birthDate < @2000-01-01",
                                        "name.given.ofType(string).count()", "%context.gender",
                                        "gender.is(code)"])
def test_outside_the_subset_falls_back(expression: str) -> None:
    compiled = compile_fhirpath(expression)
    assert compiled.fast is None
    assert compiled.evaluate(PATIENT, PATIENT) == list(_slow(expression)(PATIENT, {}))


def test_undecidable_cases_fall_back_then_raise() -> None:
    """`startsWith` on several strings is an error in FHIRPath (and in fhirpathpy)."""
    with pytest.raises(EvaluationError):
        compile_fhirpath("identifier.value.startsWith('00')").evaluate(PATIENT, PATIENT)


def test_invariant_holds_only_when_true() -> None:
    """An empty result does not satisfy an invariant (as in the HL7 validator)."""
    assert not compile_fhirpath("deceased.exists().not() and {}").holds(PATIENT, PATIENT)
    assert compile_fhirpath("gender = 'male'").holds(PATIENT, PATIENT)


def test_choice_elements_resolve_by_type_suffix() -> None:
    extension = {"url": "urn:a", "valueSet": "not a choice", "valueString": "x"}
    assert compile_fhirpath("value").evaluate(extension, extension) == ["x"]


def test_parser_rejects_what_it_cannot_read() -> None:
    for text in ("name.", "name.where(", "'unterminated", "a ! b", "'\\q'"):
        with pytest.raises(Unsupported):
            parse(text)
    broken = compile_fhirpath("name.where(")  # fhirpathpy parses leniently, fails later
    assert broken.fast is None
    with pytest.raises(EvaluationError):
        broken.evaluate(PATIENT, PATIENT)
