"""CORS for the FHIR API and /auth (Fetch standard, "CORS protocol"): browser apps on the
allowed origins (FHIR_CORS_ORIGINS; `*` by default, bearer tokens carry no cookies) may call
every route; preflight requests are answered without touching data."""

from __future__ import annotations

from flask import Flask, Response, request

ALLOWED_HEADERS = ("Authorization, Content-Type, Accept, If-Match, If-None-Match, "
                   "If-None-Exist, If-Modified-Since, Prefer, X-Requested-With")
EXPOSED_HEADERS = "Location, Content-Location, ETag, Last-Modified, Retry-After, WWW-Authenticate"
METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
MAX_AGE = "600"


def allowed_origin(origin: str | None, allowed: tuple[str, ...]) -> str | None:
    """The Access-Control-Allow-Origin value for this Origin (None: not allowed)."""
    if not origin:
        return None
    if "*" in allowed:
        return "*"
    return origin if origin.rstrip("/") in allowed else None


def init_cors(app: Flask, allowed: tuple[str, ...]) -> None:
    """Answer preflights and add the CORS headers to every response."""

    @app.before_request
    def preflight() -> Response | None:
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            answer = Response(status=204)
            del answer.headers["Content-Type"]  # no content, so no type (RFC 9110 8.3)
            return answer
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        origin = allowed_origin(request.headers.get("Origin"), allowed)
        if origin is None:
            return response
        response.headers["Access-Control-Allow-Origin"] = origin
        if origin != "*":
            response.vary.add("Origin")
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = METHODS
            response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            response.headers["Access-Control-Max-Age"] = MAX_AGE
        return response
