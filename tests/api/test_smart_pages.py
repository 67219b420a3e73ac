"""The SMART sign-in pages themselves (app-launch.html#obtain-authorization-code: "the EHR
authorization server ... may request authorization from the end-user"): language by
Accept-Language or the switch, no external assets, CSRF-bound forms, the accounts code's same
answers for unknown phones and its login backoff, scopes in plain words, the patient picker."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from flask.testing import FlaskClient

from fhir_server.auth.app_tokens import s256
from tests.api.auth_helpers import PASSWORD, next_phone, register
from tests.api.smart_fixtures import *  # noqa: F403 - the fixtures
from tests.api.smart_fixtures import APP_SCOPE, REDIRECT, Clock
from tests.api.smart_pages import parse, submit
from tests.conftest import BASE_URL


def _authorize(web: FlaskClient, **headers: str) -> Any:
    params = {"response_type": "code", "client_id": "citizen-app", "redirect_uri": REDIRECT,
              "scope": APP_SCOPE, "state": secrets.token_urlsafe(16), "aud": BASE_URL,
              "code_challenge": s256("v" * 50), "code_challenge_method": "S256"}
    return web.get("/authorize?" + urlencode(params), headers=headers)


def _text(page: Any) -> str:
    return str(page.get_data(as_text=True))


def test_language_follows_accept_language_and_the_switch(web: FlaskClient,
                                                         family: dict[str, Any]) -> None:
    assert "Đăng nhập" in _text(_authorize(web))  # Vietnamese by default
    page = _authorize(web, **{"Accept-Language": "en-GB,en;q=0.8"})
    assert "Sign in to continue to Sổ sức khỏe" in _text(page)
    switch = next(link for link in parse(page).links if "/authorize/continue" in link)
    vietnamese = web.get(switch)
    assert vietnamese.status_code == 200 and "Đăng nhập để tiếp tục" in _text(vietnamese)
    consent = submit(web, vietnamese, "login", username=family["phone"], password=PASSWORD)
    assert "muốn được phép" in _text(consent)  # the choice stays with the sign-in
    english = web.get(next(link for link in parse(consent).links if "continue" in link))
    assert "asks permission to" in _text(english) and "consent" in parse(english).forms


def test_pages_use_no_external_assets(web: FlaskClient) -> None:
    page = _authorize(web)
    assert page.mimetype == "text/html"
    assets = parse(page).assets
    assert assets and all(a.startswith("/") and not a.startswith("//") for a in assets)
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    style = web.get(assets[0])
    assert style.status_code == 200 and style.mimetype == "text/css"
    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/authorize" in cookie


def test_consent_lists_the_scopes_in_plain_words(web: FlaskClient,
                                                 family: dict[str, Any]) -> None:
    page = _authorize(web, **{"Accept-Language": "en"})
    consent = submit(web, page, "login", username=family["phone"], password=PASSWORD)
    text = _text(consent)
    for scope in APP_SCOPE.split():
        assert f'data-scope="{scope}"' in text
    assert "Read and search all health data of the chosen record" in text
    assert "Keep access while you are not using the app" in text


def test_picker_offers_self_and_family_by_name(web: FlaskClient,
                                               family: dict[str, Any]) -> None:
    page = _authorize(web)
    page = submit(web, page, "login", username=family["phone"], password=PASSWORD)
    picker = submit(web, page, "consent", decision="allow")
    assert parse(picker).forms["picker"].radios == [family["self"], family["son"]]
    assert "Nguyễn Văn Bình" in _text(picker) and "Nguyễn Văn Cường" in _text(picker)


def test_forms_need_the_csrf_token_and_the_browser_cookie(smart_app: Flask, web: FlaskClient,
                                                          family: dict[str, Any]) -> None:
    page = _authorize(web)
    forged = submit(web, page, "login", username=family["phone"], password=PASSWORD,
                    csrf="forged")
    assert forged.status_code == 403 and 'data-reason="csrf"' in _text(forged)
    other_browser = smart_app.test_client()
    form = parse(page).forms["login"]
    stolen = other_browser.post(form.action, data={**form.fields, "username": family["phone"],
                                                   "password": PASSWORD})
    assert stolen.status_code == 400 and 'data-reason="expired"' in _text(stolen)
    consent = submit(web, page, "login", username=family["phone"], password=PASSWORD)
    assert consent.status_code == 200
    replay = submit(web, page, "login", username=family["phone"], password=PASSWORD)
    assert replay.status_code == 403  # the login rotated the CSRF token
    skipped = submit(web, consent, "consent", decision="allow")
    again = web.post("/authorize/consent", data={**parse(consent).forms["consent"].fields,
                                                 "decision": "allow"})
    assert skipped.status_code == 200 and again.status_code == 409


def test_unknown_phone_and_wrong_password_answer_alike(web: FlaskClient,
                                                       family: dict[str, Any]) -> None:
    page = _authorize(web)
    unknown = submit(web, page, "login", username=next_phone(), password="Wrong2024pass")
    wrong = submit(web, page, "login", username=family["stranger_phone"],
                   password="Wrong2024pass")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.get_data() == wrong.get_data()
    assert "login" in parse(wrong).forms


def test_login_backoff_applies_to_the_pages(smart_app: Flask, web: FlaskClient) -> None:
    citizen = register(smart_app, web, "Phạm Văn Đức")
    page = _authorize(web)
    for _ in range(5):
        assert submit(web, page, "login", username=citizen["phone"],
                      password="Wrong2024pass").status_code == 401
    blocked = submit(web, page, "login", username=citizen["phone"], password=PASSWORD)
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert "Quá nhiều lần đăng nhập sai" in _text(blocked)
    api = web.post("/auth/login", json={"username": citizen["phone"], "password": PASSWORD})
    assert api.status_code == 429  # one backoff for the app's login and the pages


def test_staff_accounts_cannot_launch_patient_apps(smart_app: Flask,
                                                   web: FlaskClient) -> None:
    phone = next_phone()
    smart_app.extensions["fhir"].components["auth"].accounts.create_staff(
        phone, "Y tá Lan", "NurseLan2024", ["practitioner"])
    refused = submit(web, _authorize(web), "login", username=phone, password="NurseLan2024")
    assert refused.status_code == 403 and 'data-reason="not_citizen"' in _text(refused)


def test_a_sign_in_expires(web: FlaskClient, clock: Clock, family: dict[str, Any]) -> None:
    page = _authorize(web)
    clock.offset += timedelta(minutes=16)
    try:
        late = submit(web, page, "login", username=family["phone"], password=PASSWORD)
    finally:
        clock.offset -= timedelta(minutes=16)
    assert late.status_code == 400 and 'data-reason="expired"' in _text(late)


def test_bad_form_input_never_fails(web: FlaskClient) -> None:
    for path in ("/authorize/login", "/authorize/consent", "/authorize/patient"):
        assert web.post(path, data={}).status_code == 400
        assert web.post(path, data={"req": "x" * 5000, "csrf": "\u0000"}).status_code == 400
    page = _authorize(web)
    for csrf in ("é", "\u0000", "x" * 5000, ""):
        forged = submit(web, page, "login", username="0912345678", password="x", csrf=csrf)
        assert forged.status_code == 403, csrf
    assert web.get("/authorize/continue?req=nope").status_code == 400
    assert web.get("/authorize").status_code == 400


def test_two_sign_ins_in_one_browser_both_work(web: FlaskClient,
                                               family: dict[str, Any]) -> None:
    first, second = _authorize(web), _authorize(web)
    for page in (first, second):
        consent = submit(web, page, "login", username=family["phone"], password=PASSWORD)
        assert consent.status_code == 200 and "consent" in parse(consent).forms
