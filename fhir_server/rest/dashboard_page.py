"""The campaign dashboard (GET /dashboard): an analyst signs in (POST /auth/login, the token kept
in the tab's sessionStorage), picks a period, province, priority group and vaccine, and the page
draws the indicators it asks of the MeasureReport operations ($doses-administered,
$vaccination-coverage, $adverse-event-rates): doses per day, coverage by province (table, bars
and a map of the 34 provinces of 2025 from the shipped GeoJSON) and adverse-event rates, each
also as the operation's CSV. Charts are plain SVG drawn by the page's own scripts
(static/dashboard); no external assets."""

from __future__ import annotations

import json

from flask import Blueprint, Response, render_template, request

from fhir_server.rest.dashboard_texts import TEXTS, filter_options
from fhir_server.rest.verify_texts import page_language

dashboard_page = Blueprint("dashboard_page", __name__, template_folder="templates",
                           static_folder="static/dashboard", static_url_path="/dashboard/static")
PAGE_HEADERS = {
    "Cache-Control": "no-cache", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; connect-src 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"}


def _json_for_html(value: object) -> str:
    """JSON safe inside a <script type="application/json"> element."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


@dashboard_page.get("/dashboard")
def dashboard() -> Response:
    """The dashboard in Vietnamese or English (?lang=vi|en, else Accept-Language)."""
    lang = page_language(request.args.get("lang"), request.accept_languages.best_match)
    root = request.script_root
    body = render_template("dashboard/dashboard.html", t=TEXTS[lang], lang=lang,
                           texts=_json_for_html(TEXTS), options=_json_for_html(filter_options()),
                           base=root, login=f"{root}/auth/login")
    return Response(body, content_type="text/html; charset=utf-8", headers=PAGE_HEADERS)
