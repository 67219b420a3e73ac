"""Formats and errors (FHIR R4 http.html#mime-type, #errors; OperationOutcome everywhere)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.api.helpers import FHIR_JSON, created_id, issue, patient, post


# http.html#mime-type: JSON or XML via Accept or _format; others -> 406 with an OperationOutcome
def test_accept_and_format(client: FlaskClient) -> None:
    the_id = created_id(post(client, patient()))
    url = f"/Patient/{the_id}"
    for accept in (FHIR_JSON, "application/json", "*/*", "application/fhir+json;fhirVersion=4.0"):
        assert client.get(url, headers={"Accept": accept}).status_code == 200, accept
    assert client.get(url, headers={"Accept": "application/json"}).headers[
        "Content-Type"].startswith("application/json")
    for accept in ("application/fhir+xml", "application/xml", "text/xml"):
        response = client.get(url, headers={"Accept": accept})
        assert response.status_code == 200, accept
        assert response.headers["Content-Type"] == "application/fhir+xml; charset=utf-8"
    assert client.get(url, query_string={"_format": "json"}).status_code == 200
    assert client.get(url, query_string={"_format": "xml"}).headers[
        "Content-Type"] == "application/fhir+xml; charset=utf-8"
    assert client.get(url, query_string={"_format": "turtle"}).status_code == 406
    for accept in ("image/png", "text/turtle"):
        response = client.get(url, headers={"Accept": accept})
        assert response.status_code == 406, accept
        assert issue(response)["code"] == "not-supported"


# _pretty=true indents the JSON
def test_pretty(client: FlaskClient) -> None:
    the_id = created_id(post(client, patient()))
    assert b"\n  " in client.get(f"/Patient/{the_id}?_pretty=true").data
    assert b"\n" not in client.get(f"/Patient/{the_id}").data


# http.html#mime-type: an XML body is read, another type -> 415; malformed JSON -> 400
def test_body_content_types(client: FlaskClient) -> None:
    xml = client.post("/Patient", data="<Patient xmlns='http://hl7.org/fhir'/>",
                      headers={"Content-Type": "application/fhir+xml"})
    assert xml.status_code == 201
    turtle = client.post("/Patient", data="[] a fhir:Patient .",
                         headers={"Content-Type": "text/turtle"})
    assert turtle.status_code == 415 and issue(turtle)["code"] == "not-supported"
    form = client.post("/Patient", data="a=b",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415
    broken = client.post("/Patient", data='{"resourceType": "Patient",',
                         headers={"Content-Type": FHIR_JSON})
    assert broken.status_code == 400 and issue(broken)["code"] == "structure"
    empty = client.post("/Patient", data="", headers={"Content-Type": FHIR_JSON})
    assert empty.status_code == 400


# http.html#general: 405 with Allow for a method the URL does not offer
def test_method_not_allowed(client: FlaskClient) -> None:
    response = client.post("/Patient/some-id")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"] and "PUT" in response.headers["Allow"]
    assert issue(response)["code"] == "not-supported"


# unknown paths and types -> 404 OperationOutcome, never an HTML page
def test_unknown_paths(client: FlaskClient) -> None:
    for path in ("/Spaceship", "/Patient/1/foo/bar/baz", "/Spaceship/1/_history"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["resourceType"] == "OperationOutcome"


# 413 for a body over the configured limit
def test_body_too_large(make_app: object) -> None:
    app: Flask = make_app(max_body_bytes=2_000)  # type: ignore[operator]
    response = app.test_client().post("/Patient", data=b"{" + b" " * 5_000 + b"}",
                                      headers={"Content-Type": FHIR_JSON})
    assert response.status_code == 413
    assert issue(response)["code"] == "too-costly"


# an unexpected exception -> 500 OperationOutcome without internals
def test_unexpected_error_is_outcome(make_app: object) -> None:
    app: Flask = make_app()  # type: ignore[operator]

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals /etc/passwd")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert b"secret" not in response.data
    assert issue(response)["code"] == "exception"
