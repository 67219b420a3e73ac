"""CORS on the FHIR API and /auth (Fetch standard, CORS protocol; the CapabilityStatement
claims rest.security.cors = true)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask


def test_preflight_and_simple_requests_carry_cors_headers(make_app: Callable[..., Flask]
                                                          ) -> None:
    web = make_app(auth_required=True).test_client()
    for path in ("/Patient", "/auth/login", "/Patient/x/$everything"):
        response = web.options(path, headers={"Origin": "https://app.example",
                                              "Access-Control-Request-Method": "POST",
                                              "Access-Control-Request-Headers": "authorization"})
        assert response.status_code == 204 and not response.data, path
        assert "Content-Type" not in response.headers  # a 204 has no content to type
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
        assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    refused = web.get("/Patient", headers={"Origin": "https://app.example"})
    assert refused.status_code == 401  # a CORS header does not open the data
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in refused.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Origin" not in web.get("/metadata").headers  # no Origin


def test_allowed_origins_are_configurable(make_app: Callable[..., Flask]) -> None:
    web = make_app(cors_origins=("https://app.example",)).test_client()
    ok = web.get("/metadata", headers={"Origin": "https://app.example"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "Origin" in ok.headers["Vary"]
    other = web.get("/metadata", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
