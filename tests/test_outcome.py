"""OperationOutcome building (FHIR R4 operationoutcome.html: issue.expression is FHIRPath)."""

from __future__ import annotations

from fhir_server.errors import Issue, NotFound
from fhir_server.outcome import fhirpath_of, issues_from_pydantic, operation_outcome


def test_fhirpath_of_pydantic_locations() -> None:
    assert fhirpath_of("Patient", ("name", 0, "family")) == "Patient.name[0].family"
    assert fhirpath_of("Patient", ()) == "Patient"


def test_issues_from_pydantic() -> None:
    issues = issues_from_pydantic("Patient", [
        {"type": "extra_forbidden", "loc": ("foo",), "msg": "Extra inputs"},
        {"type": "value_error", "loc": ("birthDate",), "msg": "Value error, bad date"}])
    assert issues[0] == Issue("structure", "Unknown element 'foo'", expression=("Patient.foo",))
    assert issues[1].code == "value" and issues[1].diagnostics == "bad date"


def test_errors_carry_status_and_issue() -> None:
    error = NotFound("Patient/1 is not known")
    assert error.status == 404
    outcome = operation_outcome(error.issues)
    assert outcome["issue"] == [{"severity": "error", "code": "not-found",
                                 "diagnostics": "Patient/1 is not known"}]
