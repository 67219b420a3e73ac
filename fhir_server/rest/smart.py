"""The SMART authorization endpoint's pages (app-launch.html#obtain-authorization-code):
GET /authorize checks the app's request and shows the sign-in; the forms post to
/authorize/login, /authorize/consent and /authorize/patient; the last one sends the browser
back to the app with the code. Server-rendered, no external assets, CSRF-bound forms."""

from __future__ import annotations

import re
import secrets
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request

from fhir_server.auth.oauth_errors import UntrustedRedirect
from fhir_server.auth.principal import CITIZEN, Principal, acting_as
from fhir_server.auth.scopes import ScopeSet
from fhir_server.auth.smart_apps import SmartApps
from fhir_server.auth.smart_launch import RedirectBack, SignIn, language
from fhir_server.errors import FhirError, InvalidRequest, NotFound, TooManyRequests, Unauthorized
from fhir_server.interactions import crud
from fhir_server.interactions.context import Services
from fhir_server.repository import AuditUnit
from fhir_server.rest.authn import recorder_for
from fhir_server.rest.smart_texts import describe_scope, texts

smart = Blueprint("smart", __name__, template_folder="templates",
                  static_folder="static/smart", static_url_path="/authorize/static")
COOKIE = "smart_signin"
BROWSER_SECRET = re.compile(r"[A-Za-z0-9_-]{32}")
PAGE_HEADERS = {
    "Cache-Control": "no-store", "Pragma": "no-cache", "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'"}


def _apps() -> SmartApps:
    apps = current_app.extensions["fhir"].components.get("smart")
    if apps is None:
        raise NotFound("SMART apps are not enabled on this server")
    return apps


def _page(template: str, sign_in: SignIn | None, lang: str, status: int = 200,
          headers: dict[str, str] | None = None, **values: Any) -> Response:
    switch = None
    if sign_in is not None:
        switch = f"{request.script_root}/authorize/continue?req={sign_in.id}" \
                 f"&lang={texts(lang)['switch_lang']}"
    body = render_template(f"smart/{template}.html", t=texts(lang), lang=lang,
                           sign_in=sign_in, switch_url=switch,
                           app=sign_in.client_name if sign_in else "", **values)
    return Response(body, status=status, content_type="text/html; charset=utf-8",
                    headers={**PAGE_HEADERS, **(headers or {})})


def _error_page(reason: str, lang: str, status: int = 400) -> Response:
    return _page("error", None, lang, status, reason=reason, message=texts(lang)[reason])


def _lang() -> str:
    return language(request.values.get("lang"), request.accept_languages.best_match)


def _login_page(sign_in: SignIn, error: str | None = None, status: int = 200,
                headers: dict[str, str] | None = None) -> Response:
    return _page("login", sign_in, sign_in.lang, status, headers,
                 error=texts(sign_in.lang)[error] if error else None)


def _consent_page(sign_in: SignIn) -> Response:
    scopes = [(s, describe_scope(s, sign_in.lang)) for s in sign_in.scope.split()]
    return _page("consent", sign_in, sign_in.lang, scopes=scopes)


def _people(sign_in: SignIn, ids: list[str]) -> list[dict[str, str]]:
    """The choosable patients with their names, read through the citizen's Repository."""
    svc: Services = current_app.extensions["fhir"]
    caller = Principal(CITIZEN, sign_in.account or "", ScopeSet.parse("patient/Patient.r"),
                       frozenset(ids), patient=ids[0], address=request.remote_addr)
    unit = AuditUnit("read", "GET", f"SMART patient picker for {sign_in.client}")
    bound = svc.bind(caller, recorder_for(svc, caller, request.remote_addr), unit)
    words, people = texts(sign_in.lang), []
    with acting_as(caller):
        for number, pid in enumerate(ids):
            try:
                resource = crud.read(bound, "Patient", pid).resource or {}
            except FhirError:
                continue  # gone or not visible: not offered
            people.append({"id": pid, "name": _name(resource) or pid,
                           "role": words["self"] if number == 0 else words["family"]})
    bound.store.finish(unit, 200)
    return people


def _name(patient: dict[str, Any]) -> str:
    for name in patient.get("name", []):
        text = name.get("text") or " ".join([name.get("family", ""), *name.get("given", [])])
        if text.strip():
            return str(text).strip()[:200]
    return ""


def _picker_page(sign_in: SignIn, error: str | None = None, status: int = 200) -> Response:
    people = _people(sign_in, _apps().launch.patients(sign_in))
    return _page("picker", sign_in, sign_in.lang, status, people=people,
                 error=texts(sign_in.lang)[error] if error else None)


def _step_page(sign_in: SignIn) -> Response:
    if sign_in.step == "consent":
        return _consent_page(sign_in)
    if sign_in.step == "patient":
        return _picker_page(sign_in)
    return _login_page(sign_in)


def _form_sign_in() -> SignIn:
    form = request.form
    if any(len(form.getlist(key)) > 1 for key in form if key != "scope"):
        raise UntrustedRedirect("bad_request")
    return _apps().launch.load(form.get("req", ""), request.cookies.get(COOKIE),
                               form.get("csrf", ""))


@smart.errorhandler(UntrustedRedirect)
def untrusted(exc: UntrustedRedirect) -> Response:
    """An error page: the browser is never sent to an address that is not registered."""
    return _error_page(exc.reason, _lang(), exc.status)


@smart.errorhandler(RedirectBack)
def back_to_app(exc: RedirectBack) -> Response:
    """Back to the app's registered redirect URI (with code or error, and state)."""
    return redirect(exc.location, 302)  # type: ignore[return-value]


@smart.get("/authorize")
def authorize() -> Response:
    """Check the authorization request and show the sign-in page (a new sign-in)."""
    args = request.args
    if any(len(args.getlist(key)) > 1 for key in args):
        raise UntrustedRedirect("bad_request")
    browser = request.cookies.get(COOKIE, "")  # one secret per browser: several tabs work
    if not BROWSER_SECRET.fullmatch(browser):
        browser = secrets.token_urlsafe(24)
    sign_in = _apps().launch.begin(args.to_dict(), browser, _lang())
    response = _login_page(sign_in)
    secure = request.is_secure or current_app.extensions["fhir"].settings.base_url.startswith(
        "https:")
    response.set_cookie(COOKIE, browser, max_age=900, path="/authorize", httponly=True,
                        samesite="Lax", secure=secure)
    return response


@smart.get("/authorize/continue")
def resume() -> Response:
    """The current page of this browser's sign-in (the language switch)."""
    apps = _apps()
    sign_in = apps.launch.load(request.args.get("req", ""), request.cookies.get(COOKIE))
    return _step_page(apps.launch.set_language(sign_in, _lang()))


@smart.post("/authorize/login")
def login() -> Response:
    """Check the password (same answers for unknown phones, login backoff); then consent."""
    sign_in = _form_sign_in()
    try:
        signed_in = _apps().launch.login(sign_in, request.form, request.remote_addr)
    except Unauthorized:
        return _login_page(sign_in, "login_failed", 401)
    except TooManyRequests as exc:
        wait = exc.headers.get("Retry-After", "60")
        return _page("login", sign_in, sign_in.lang, 429, exc.headers,
                     error=texts(sign_in.lang)["login_throttled"].format(seconds=wait))
    except InvalidRequest:
        return _login_page(sign_in, "login_missing", 400)
    return _consent_page(signed_in)


@smart.post("/authorize/consent")
def consent() -> Response:
    """Allow (on to the patient picker) or deny (back to the app with access_denied)."""
    sign_in = _form_sign_in()
    allowed = _apps().launch.consent(sign_in, request.form.get("decision") == "allow",
                                     request.form.getlist("scope"))
    return _picker_page(allowed)


@smart.post("/authorize/patient")
def pick() -> Response:
    """The chosen patient becomes the launch context; back to the app with the code."""
    sign_in = _form_sign_in()
    try:
        location = _apps().launch.choose(sign_in, request.form.get("patient", ""))
    except UntrustedRedirect as exc:
        if exc.reason != "bad_patient":
            raise
        return _picker_page(sign_in, "bad_patient", 400)
    return redirect(location, 302)  # type: ignore[return-value]
