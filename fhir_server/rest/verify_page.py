"""The health-card verifier page (GET /verify): paste a shc:/ code, upload a QR image or scan
it with the camera. The QR is decoded in the browser (jsQR, shipped in static/verify); the
signature, trust and revocation checks are the server's: the page posts the shc:/ text to
POST [base]/$verify-health-card and shows its verdict. No external assets."""

from __future__ import annotations

import json

from flask import Blueprint, Response, render_template, request

from fhir_server.rest.verify_texts import TEXTS, page_language

verify_page = Blueprint("verify_page", __name__, template_folder="templates",
                        static_folder="static/verify", static_url_path="/verify/static")
PAGE_HEADERS = {
    "Cache-Control": "no-cache", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer", "Permissions-Policy": "camera=(self)",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' blob: data:; media-src 'self' blob:; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                               "form-action 'none'"}


@verify_page.get("/verify")
def verify() -> Response:
    """The verifier page in Vietnamese or English (?lang=vi|en, else Accept-Language)."""
    lang = page_language(request.args.get("lang"), request.accept_languages.best_match)
    body = render_template("verify/verify.html", t=TEXTS[lang], lang=lang,
                           texts=json.dumps(TEXTS, ensure_ascii=False).replace("<", "\\u003c"),
                           api=f"{request.script_root}/$verify-health-card")
    return Response(body, content_type="text/html; charset=utf-8", headers=PAGE_HEADERS)
