"""Bad input to the SMART authorization and token endpoints: each is an RFC 6749 error (a
redirect with error= and state, a JSON body from /token) or a clear page, never a token, and
leaves nothing stored. app-launch.html#obtain-authorization-code ("the EHR ... SHALL NOT
redirect to an unregistered redirect_uri"), #obtain-access-token, RFC 6749 sections 4.1.2.1
and 5.2, RFC 7636 section 4.4.1 (S256 only; plain refused)."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from fhir_server.auth.app_tokens import s256
from tests.api.auth_helpers import PASSWORD
from tests.api.smart_fixtures import *  # noqa: F403 - the fixtures
from tests.api.smart_fixtures import APP_SCOPE, REDIRECT
from tests.api.smart_pages import parse, submit
from tests.conftest import BASE_URL


def _params(**changes: Any) -> dict[str, str]:
    params = {"response_type": "code", "client_id": "citizen-app", "redirect_uri": REDIRECT,
              "scope": APP_SCOPE, "state": secrets.token_urlsafe(16), "aud": BASE_URL,
              "code_challenge": s256("v" * 50), "code_challenge_method": "S256"}
    params.update(changes)
    return {k: v for k, v in params.items() if v is not None}


def _stored(app: Flask) -> tuple[int, int, int]:
    records = app.extensions["fhir"].components["smart"].launch.records
    return (records.requests.count_documents({}), records.codes.count_documents({}),
            records.refresh.count_documents({}))


def _code(web: FlaskClient, username: str, verifier: str = "v" * 50,
          **changes: Any) -> tuple[str, str]:
    """Go through the pages; the code and state the app gets back."""
    params = _params(code_challenge=s256(verifier), **changes)
    page = web.get("/authorize?" + urlencode(params))
    page = submit(web, page, "login", username=username, password=PASSWORD)
    page = submit(web, page, "consent", decision="allow")
    back = submit(web, page, "picker")
    query = parse_qs(urlsplit(back.headers["Location"]).query)
    return query["code"][0], query["state"][0]


def _exchange(web: FlaskClient, grant_code: str, verifier: str = "v" * 50,
              **changes: str) -> Any:
    form = {"grant_type": "authorization_code", "code": grant_code, "redirect_uri": REDIRECT,
            "client_id": "citizen-app", "code_verifier": verifier, **changes}
    return web.post("/token", data=form)


@pytest.mark.parametrize(("changes", "reason"), [
    ({"client_id": "nobody"}, "unknown_client"),
    ({"client_id": None}, "unknown_client"),
    ({"redirect_uri": "https://evil.example/callback"}, "bad_redirect"),
    ({"redirect_uri": REDIRECT + "/more"}, "bad_redirect"),
    ({"redirect_uri": None}, "bad_redirect"),
])
def test_untrusted_requests_get_a_page_not_a_redirect(web: FlaskClient, smart_app: Flask,
                                                      changes: dict[str, Any],
                                                      reason: str) -> None:
    before = _stored(smart_app)
    page = web.get("/authorize?" + urlencode(_params(**changes)))
    assert page.status_code == 400 and "Location" not in page.headers
    assert page.mimetype == "text/html"
    assert f'data-reason="{reason}"' in page.get_data(as_text=True)
    assert _stored(smart_app) == before


def test_repeated_parameters_get_a_page(web: FlaskClient) -> None:
    query = urlencode(_params()) + "&redirect_uri=" + REDIRECT
    page = web.get("/authorize?" + query)
    assert page.status_code == 400 and "Location" not in page.headers


@pytest.mark.parametrize(("changes", "error"), [
    ({"code_challenge_method": "plain", "code_challenge": "p" * 50}, "invalid_request"),
    ({"code_challenge_method": None}, "invalid_request"),
    ({"code_challenge": None}, "invalid_request"),
    ({"scope": "launch/patient patient/*.cruds"}, "invalid_scope"),
    ({"scope": "launch/patient user/*.read"}, "invalid_scope"),
    ({"scope": "openid fhirUser launch/patient"}, "invalid_scope"),
    ({"scope": "patient/Observation.rs?category=laboratory"}, "invalid_scope"),
    ({"scope": ""}, "invalid_scope"),
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"aud": "https://other.example/fhir"}, "invalid_request"),
    ({"aud": None}, "invalid_request"),
    ({"launch": "xyz"}, "invalid_request"),
])
def test_other_errors_redirect_back_with_error_and_state(web: FlaskClient, smart_app: Flask,
                                                         changes: dict[str, Any],
                                                         error: str) -> None:
    before = _stored(smart_app)
    params = _params(**changes)
    answer = web.get("/authorize?" + urlencode(params))
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["error"] == [error] and query["state"] == [params["state"]]
    assert "code" not in query
    assert _stored(smart_app) == before


def test_missing_state_redirects_without_state(web: FlaskClient) -> None:
    answer = web.get("/authorize?" + urlencode(_params(state=None)))
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert answer.status_code == 302 and query["error"] == ["invalid_request"]
    assert "state" not in query


def test_wrong_verifier_is_invalid_grant_and_spends_the_code(web: FlaskClient,
                                                            smart_app: Flask,
                                                            family: dict[str, Any]) -> None:
    code, _ = _code(web, family["phone"])
    refresh_before = _stored(smart_app)[2]
    wrong = _exchange(web, code, "w" * 50)
    assert wrong.status_code == 400 and wrong.get_json()["error"] == "invalid_grant"
    assert "access_token" not in wrong.get_json()
    assert wrong.headers["Cache-Control"] == "no-store"
    right = _exchange(web, code)  # the code was single use: a guess burns it
    assert right.status_code == 400 and right.get_json()["error"] == "invalid_grant"
    assert _stored(smart_app)[2] == refresh_before


def test_reused_code_is_refused_and_revokes_what_it_gave(web: FlaskClient,
                                                         family: dict[str, Any]) -> None:
    code, _ = _code(web, family["phone"])
    first = _exchange(web, code)
    assert first.status_code == 200
    tokens = first.get_json()
    again = _exchange(web, code)
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert web.get(f"/Patient/{family['self']}", headers=headers).status_code == 401
    refreshed = web.post("/token", data={"grant_type": "refresh_token",
                                         "client_id": "citizen-app",
                                         "refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 400 and refreshed.get_json()["error"] == "invalid_grant"


def test_expired_code_is_invalid_grant(web: FlaskClient, clock: Any,
                                       family: dict[str, Any]) -> None:
    from datetime import timedelta

    code, _ = _code(web, family["phone"])
    clock.offset += timedelta(seconds=61)
    try:
        late = _exchange(web, code)
    finally:
        clock.offset -= timedelta(seconds=61)
    assert late.status_code == 400 and late.get_json()["error"] == "invalid_grant"


@pytest.mark.parametrize(("changes", "status", "error"), [
    ({"redirect_uri": "https://app.example.vn/other"}, 400, "invalid_grant"),
    ({"client_id": "narrow-app"}, 400, "invalid_grant"),
    ({"client_id": "nobody"}, 401, "invalid_client"),
    ({"client_id": ""}, 401, "invalid_client"),
    ({"client_secret": "x"}, 401, "invalid_client"),
    ({"code_verifier": "short"}, 400, "invalid_request"),
    ({"code": "made-up-code"}, 400, "invalid_grant"),
    ({"grant_type": "password"}, 400, "unsupported_grant_type"),
])
def test_token_request_errors(web: FlaskClient, smart_app: Flask, family: dict[str, Any],
                              changes: dict[str, str], status: int, error: str) -> None:
    code, _ = _code(web, family["phone"])
    before = _stored(smart_app)[2]
    answer = _exchange(web, code, **changes)
    assert answer.status_code == status, answer.get_json()
    body = answer.get_json()
    assert body["error"] == error and body["error_description"]
    assert "access_token" not in body and _stored(smart_app)[2] == before


def test_token_endpoint_wants_a_form(web: FlaskClient) -> None:
    answer = web.post("/token", json={"grant_type": "authorization_code"})
    assert answer.status_code == 400 and answer.get_json()["error"] == "invalid_request"
    twice = web.post("/token", data="grant_type=refresh_token&grant_type=refresh_token",
                     content_type="application/x-www-form-urlencoded")
    assert twice.status_code == 400 and twice.get_json()["error"] == "invalid_request"
    unknown = web.post("/token", data={"grant_type": "refresh_token", "refresh_token": "nope"})
    assert unknown.status_code == 400 and unknown.get_json()["error"] == "invalid_grant"


def test_denied_consent_goes_back_with_access_denied(web: FlaskClient, smart_app: Flask,
                                                     family: dict[str, Any]) -> None:
    params = _params()
    page = web.get("/authorize?" + urlencode(params))
    page = submit(web, page, "login", username=family["phone"], password=PASSWORD)
    back = submit(web, page, "consent", decision="deny")
    query = parse_qs(urlsplit(back.headers["Location"]).query)
    assert back.status_code == 302 and query["error"] == ["access_denied"]
    assert query["state"] == [params["state"]] and "code" not in query


def test_picker_refuses_a_patient_outside_the_account(web: FlaskClient, smart_app: Flask,
                                                      family: dict[str, Any]) -> None:
    page = web.get("/authorize?" + urlencode(_params()))
    page = submit(web, page, "login", username=family["phone"], password=PASSWORD)
    page = submit(web, page, "consent", decision="allow")
    codes = _stored(smart_app)[1]
    refused = submit(web, page, "picker", patient=family["stranger"])
    assert refused.status_code == 400 and "Location" not in refused.headers
    assert "picker" in parse(refused).forms and _stored(smart_app)[1] == codes


HOSTILE = ["", " ", "\x00", "é" * 300, "a" * 5000, '{"$ne": 1}', "$gt", "%", "#", "?&=",
           "javascript:alert(1)", "https://app.example.vn/callback#frag", "plain", "S256 S256"]


def test_hostile_values_never_fail(web: FlaskClient) -> None:
    """Every parameter of /authorize and /token with odd values: 4xx, 302 or 200, never 5xx."""
    for name in _params():
        for value in HOSTILE:
            answer = web.get("/authorize?" + urlencode(_params(**{name: value})))
            assert answer.status_code < 500, (name, value)
            location = answer.headers.get("Location", "")
            assert not location or location.startswith(REDIRECT + "?"), (name, value)
    form = {"grant_type": "authorization_code", "code": "c", "redirect_uri": REDIRECT,
            "client_id": "citizen-app", "code_verifier": "v" * 50, "refresh_token": "r"}
    for grant in ("authorization_code", "refresh_token", "client_credentials"):
        for name in form:
            for value in HOSTILE:
                answer = web.post("/token", data={**form, "grant_type": grant, name: value})
                assert 400 <= answer.status_code < 500, (grant, name, value)
                assert answer.get_json()["error"], (grant, name, value)
    for header in ("Basic", "Basic !!!", "Basic " + "QQ==" * 3000, "Bearer x", "Digest a=b"):
        answer = web.post("/token", data=form, headers={"Authorization": header})
        assert 400 <= answer.status_code < 500 and answer.get_json()["error"], header
