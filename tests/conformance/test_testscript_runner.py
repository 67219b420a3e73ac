"""The TestScript runner itself (R4 testscript.html): its path translation and operators, and a
small script using what the spec's Patient scripts do not (autocreate/autodelete, variables
from expressions and headers of stored responses, vread, warningOnly, skipped operations)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, Response, request

from tests.conformance.testscript_model import FAILED, PASSED, SKIPPED, WARNING
from tests.conformance.testscript_paths import (
    Unsupported,
    compare,
    contains_minimum,
    path_to_fhirpath,
    xml_to_json,
)
from tests.conformance.testscript_runner import TestScriptRunner, _encoded
from tests.conftest import BASE_URL

PATIENT = {"resourceType": "Patient", "id": "ts-runner", "gender": "female",
           "name": [{"family": "Lê", "given": ["Thu", "Hà"]}]}


def test_xpaths_become_fhirpath() -> None:
    assert path_to_fhirpath("fhir:Patient/fhir:name/fhir:family/@value") == "Patient.name.family"
    assert path_to_fhirpath("Patient/id") == "Patient.id"
    assert path_to_fhirpath("$.name.given") == "name.given"
    with pytest.raises(Unsupported):
        path_to_fhirpath("fhir:Patient/fhir:name[1]/fhir:family/@value")


@pytest.mark.parametrize(("operator", "actual", "expected", "holds"), [
    ("equals", "a", "a", True), ("notEquals", "a", "b", True), ("in", "204", "200,204", True),
    ("notIn", "404", "200,204", True), ("greaterThan", "10", "9", True),
    ("lessThan", "10", "9", False), ("contains", "application/fhir+json", "json", True),
    ("notContains", "abc", "x", True), ("empty", None, None, True),
    ("notEmpty", "", None, False), ("equals", None, "a", False)])
def test_operators(operator: str, actual: str | None, expected: str | None, holds: bool) -> None:
    assert compare(operator, actual, expected) is holds


def test_minimum_and_xml_and_encoding() -> None:
    assert contains_minimum({**PATIENT, "meta": {"versionId": "1"}}, PATIENT)
    assert not contains_minimum(PATIENT, {**PATIENT, "gender": "male"})
    xml = (b'<Bundle xmlns="http://hl7.org/fhir"><type value="searchset"/><total value="2"/>'
           b'<entry><fullUrl value="a"/></entry><entry><fullUrl value="b"/></entry></Bundle>')
    assert xml_to_json(xml) == {"resourceType": "Bundle", "type": "searchset", "total": "2",
                                "entry": [{"fullUrl": "a"}, {"fullUrl": "b"}]}
    assert _encoded("/Patient?family=Lê Thu&given=a") == \
        "/Patient?family=L%C3%AA+Thu&given=a"


def _op(code: str, **fields: Any) -> dict[str, Any]:
    """One operation action."""
    return {"operation": {"type": {"code": code}, "encodeRequestUrl": True, **fields}}


def _assert(**fields: Any) -> dict[str, Any]:
    """One assert action."""
    return {"assert": {"warningOnly": False, **fields}}


SCRIPT: dict[str, Any] = {
    "resourceType": "TestScript", "id": "runner-self-test",
    "fixture": [{"id": "f-patient", "autocreate": True, "autodelete": True,
                 "resource": {"reference": "Patient/ts-runner"}}],
    "variable": [
        {"name": "pid", "expression": "Patient.id", "sourceId": "f-patient"},
        {"name": "vid", "expression": "meta.versionId", "sourceId": "read-1"},
        {"name": "etag", "headerField": "ETag", "sourceId": "read-1"},
        {"name": "family", "defaultValue": "Lê"}],
    "setup": {"action": [
        _op("read", resource="Patient", targetId="f-patient", responseId="read-1",
            accept="json"),
        _assert(response="okay"), _assert(contentType="json"),
        _assert(headerField="ETag", operator="notEmpty")]},
    "test": [{"name": "variables", "action": [
        _op("vread", resource="Patient", params="/${pid}/_history/${vid}",
            requestHeader=[{"field": "If-None-Match", "value": "${etag}"}]),
        _assert(label="not-modified-or-ok", responseCode="200,304", operator="in"),
        _op("search", resource="Patient", params="?family=${family}"),
        _assert(expression="Bundle.total", operator="greaterThan", value="0"),
        _assert(expression="Bundle.entry.count() = Bundle.total", operator="eval"),
        _assert(label="warned", expression="Bundle.total", value="99", warningOnly=True),
        _assert(direction="request", requestURL="family=L%C3%AA", operator="contains"),
        _op("read", resource="Patient", targetId="read-1"),
        _assert(compareToSourceId="f-patient", compareToSourceExpression="name.given.last()",
                expression="name.given.last()"),
        _assert(minimumId="f-patient"),
        _op("find-matches", resource="Patient"),
        _assert(label="after-skip", response="okay")]}],
    "teardown": {"action": [_op("delete", resource="Patient", params="/${pid}")]},
}


def test_runner_on_a_script(make_app: Callable[..., Flask]) -> None:
    runner = TestScriptRunner(make_app().test_client(), {"Patient/ts-runner": PATIENT}.__getitem__,
                              {}, BASE_URL)
    report = runner.run(SCRIPT)
    summary = [(o.key, o.status, o.detail) for o in report.outcomes]
    assert report.keys(WARNING) == {"warned"}, summary
    assert report.keys(SKIPPED) == {"test[0][10]", "after-skip"}, summary
    assert report.keys(FAILED) == set(), summary
    assert report.count(PASSED) == 9, summary
    gone = runner.client.get("/Patient/ts-runner")
    assert gone.status_code in (404, 410)  # autodelete ran


def test_xml_when_the_server_speaks_it() -> None:
    """Against a (stub) server that answers XML, an xml operation asks for XML and the asserts
    about the format run, with paths read from the XML body."""
    stub = Flask("xml-stub")
    patient = (b'<Patient xmlns="http://hl7.org/fhir"><id value="x"/><name><family value="Le"/>'
               b'<given value="Thu"/><given value="Ha"/></name></Patient>')

    @stub.get("/metadata")
    def metadata() -> Response:
        """A CapabilityStatement in XML."""
        return Response(b'<CapabilityStatement xmlns="http://hl7.org/fhir"/>',
                        content_type="application/fhir+xml")

    @stub.get("/Patient/x")
    def read() -> Response:
        """The Patient, in XML only when asked for."""
        wants_xml = "xml" in request.headers.get("Accept", "")
        return Response(patient if wants_xml else b"{}", content_type="application/fhir+" + (
            "xml" if wants_xml else "json"))

    script = {"id": "xml", "test": [{"action": [
        _op("read", resource="Patient", params="/x", accept="xml"),
        _assert(contentType="xml"), _assert(resource="Patient"),
        _assert(direction="request", headerField="Accept", operator="contains", value="xml"),
        _assert(path="fhir:Patient/fhir:name/fhir:family/@value", value="Le"),
        _assert(expression="Patient.name.given.count() = 2")]}]}
    fixtures: dict[str, dict[str, Any]] = {}
    runner = TestScriptRunner(stub.test_client(), fixtures.__getitem__, {}, BASE_URL)
    assert runner.xml
    report = runner.run(script)
    assert report.count(PASSED) == 5, report.outcomes
