"""SMART Backend Services at the advertised token endpoint
(backend-services.html#request-access-token): POST /token with a private_key_jwt assertion
whose aud is /token; failures are RFC 6749 bodies (401 invalid_client, 400 invalid_scope or
invalid_request)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from jwcrypto import jwk, jwt

from tests.api.smart_fixtures import *  # noqa: F403 - the fixtures
from tests.conftest import BASE_URL

FORM = {"grant_type": "client_credentials", "scope": "system/Immunization.read",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}


def test_backend_client_at_the_token_endpoint(smart_app: Flask, web: FlaskClient) -> None:
    key = jwk.JWK.generate(kty="EC", crv="P-256", kid="k1")
    client_id = f"site-{uuid.uuid4().hex[:8]}"
    smart_app.extensions["fhir"].components["auth"].clients.register(
        client_id, "Site", {"keys": [json.loads(key.export_public())]}, "system/*.read")
    config = web.get("/.well-known/smart-configuration").get_json()

    def assertion(**overrides: Any) -> str:
        claims = {"iss": client_id, "sub": client_id, "aud": config["token_endpoint"],
                  "exp": int(time.time()) + 240, "jti": uuid.uuid4().hex, **overrides}
        signed = jwt.JWT(header={"alg": "ES256", "kid": "k1"}, claims=claims)
        signed.make_signed_token(key)
        return str(signed.serialize())

    good = web.post("/token", data={**FORM, "client_assertion": assertion()})
    assert good.status_code == 200, good.get_json()
    assert good.get_json()["scope"] == "system/Immunization.read"
    found = web.get("/Immunization", headers={
        "Authorization": f"Bearer {good.get_json()['access_token']}"})
    assert found.status_code == 200
    older = web.post("/token", data={**FORM, "client_assertion": assertion(
        aud=f"{BASE_URL}/auth/token")})
    assert older.status_code == 200  # the token URL before /token still works
    for bad in (assertion(aud="https://elsewhere/token"), assertion(iss="someone-else"),
                "not-a-jwt"):
        refused = web.post("/token", data={**FORM, "client_assertion": bad})
        assert refused.status_code == 401 and refused.get_json()["error"] == "invalid_client"
    too_much = web.post("/token", data={**FORM, "scope": "system/Patient.write",
                                        "client_assertion": assertion()})
    assert too_much.status_code == 400 and too_much.get_json()["error"] == "invalid_scope"
    no_type = web.post("/token", data={**FORM, "client_assertion_type": "x",
                                       "client_assertion": assertion()})
    assert no_type.status_code == 400 and no_type.get_json()["error"] == "invalid_request"
