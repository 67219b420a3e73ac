"""OpenAPI path items and security schemes of the non-FHIR routes: accounts, SMART, cards, jobs.

Bodies follow fhir_server/rest/auth.py, fhir_server/rest/family.py and
fhir_server/auth/accounts.py; tokens are the JWT access tokens of /auth/login and /token.
"""

from __future__ import annotations

from typing import Any

JSON_BODY = "application/json"
FORM_BODY = "application/x-www-form-urlencoded"
PUBLIC: list[dict[str, list[str]]] = []  # `security: []`: no token needed
SECURED: list[dict[str, list[str]]] = [{"bearer": []}, {"smart": []}]


def security_schemes() -> dict[str, Any]:
    """Bearer JWT (from /auth/login, /token) and SMART OAuth2 (PKCE code, client credentials)."""
    return {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                   "description": "access_token from /auth/login, /auth/register/confirm "
                                  "or /token"},
        "smart": {"type": "oauth2", "description": "SMART App Launch: authorization code with "
                  "PKCE (S256) at /authorize + /token; SMART Backend Services: client "
                  "credentials at /token", "flows": {
                      "authorizationCode": {"authorizationUrl": "/authorize", "tokenUrl": "/token",
                                            "refreshUrl": "/token", "scopes": _scopes()},
                      "clientCredentials": {"tokenUrl": "/token", "scopes": _scopes()}}},
    }


def _scopes() -> dict[str, str]:
    return {"openid": "OpenID Connect", "fhirUser": "the user's FHIR resource",
            "launch/patient": "pick a patient at launch", "offline_access": "refresh token",
            "patient/*.read": "read the patient's data", "user/*.read": "read as the user",
            "system/*.read": "backend read (client credentials)"}


def _obj(required: tuple[str, ...], **props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": props}


_S: dict[str, Any] = {"type": "string"}
_I: dict[str, Any] = {"type": "integer"}


def auth_schemas() -> dict[str, Any]:
    """Component schemas of the /auth JSON bodies."""
    tokens = _obj(("access_token", "token_type", "expires_in"), access_token=_S,
                  token_type={"type": "string", "enum": ["Bearer"]}, expires_in=_I, scope=_S,
                  refresh_token=_S, patient=_S, id_token=_S)
    maybe = {"type": "string", "nullable": True}
    member = _obj(("patient",), patient=_S, relatedPerson=maybe, name=maybe,
                  relationship=maybe, relationshipDisplay=maybe)
    details = {"full_name": _S, "birthDate": {"type": "string", "format": "date"},
               "gender": _S, "cccd": _S, "bhxh": _S, "bhyt": _S}
    return {
        "Tokens": tokens,
        "RegisterRequest": _obj(("full_name", "phone", "password"), full_name=_S, phone=_S,
                                password={"type": "string", "format": "password"},
                                birthDate={"type": "string", "format": "date"}, gender=_S,
                                cccd=_S, bhxh=_S, bhyt=_S),
        "RegisterStarted": _obj(("status", "registration"), status=_S, phone=_S,
                                registration=_S, expires_in=_I),
        "RegisterConfirm": _obj(("registration", "code"), registration=_S, code=_S, phone=_S),
        "LoginRequest": _obj(("username", "password"), username={
            "type": "string", "description": "phone or BHXH code (phone, bhxh also accepted)"},
            password={"type": "string", "format": "password"}),
        "TokenRequest": _obj(("grant_type",), grant_type={
            "type": "string", "enum": ["authorization_code", "refresh_token",
                                       "client_credentials"]}, code=_S, code_verifier=_S,
            redirect_uri=_S, refresh_token=_S, client_id=_S, client_assertion_type=_S,
            client_assertion=_S, scope=_S),
        "ResetRequest": _obj(("phone",), phone=_S),
        "ResetConfirm": _obj(("phone", "code", "password"), phone=_S, code=_S,
                             password={"type": "string", "format": "password"}),
        "Status": _obj(("status",), status=_S),
        "FamilyMember": member,
        "FamilyMemberRequest": _obj((), relationship={
            "type": "string", "description": "v3-RoleCode, e.g. CHILD, MTH, FTH"}, **details),
        "FamilyAdded": {**tokens, "properties": {**tokens["properties"], "member": _S,
                                                 "relatedPerson": {}}},
        "Family": _obj((), patient=_S, family={"type": "array", "items": {}},
                       members={"type": "array", "items": _ref("FamilyMember")}),
        "Profile": _obj(("patient",), patient=_S, name=maybe, birthDate=maybe, gender=maybe,
                        identifier={"type": "array", "items": {"type": "object"}},
                        complete={"type": "boolean"}, missing={"type": "array", "items": _S},
                        profile={"type": "boolean"}),
        "ProfileRequest": _obj((), **details),
        "JWKS": _obj(("keys",), keys={"type": "array", "items": {"type": "object"}}),
        "SmartConfiguration": _obj(("authorization_endpoint", "token_endpoint"),
                                   authorization_endpoint=_S, token_endpoint=_S,
                                   capabilities={"type": "array", "items": _S}),
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: str, description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {JSON_BODY: {"schema": _ref(schema)}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(c): {"$ref": f"#/components/responses/Error{c}"} for c in codes}


def _op(tag: str, summary: str, responses: dict[str, Any], secured: bool = True,
        body: str | None = None, form: bool = False) -> dict[str, Any]:
    """One operation object: tag, summary, optional JSON (or form) body, security."""
    operation: dict[str, Any] = {"tags": [tag], "summary": summary, "responses": responses,
                                 "security": SECURED if secured else PUBLIC}
    if body is not None:
        media = [JSON_BODY, FORM_BODY] if form else [JSON_BODY]
        operation["requestBody"] = {"required": True, "content": {
            m: {"schema": _ref(body)} for m in media}}
    return operation


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def auth_paths() -> dict[str, dict[str, Any]]:
    """The /auth/* account endpoints (register, login, tokens, reset, family, profile, keys)."""
    bad = _errors(400, 401, 429)
    done = {"204": {"description": "Done"}}
    return {
        "/auth/register": {"post": _op("auth", "Start a registration (SMS code sent)", {
            "202": _json("RegisterStarted", "Code sent"), **_errors(400, 409, 429)},
            False, "RegisterRequest")},
        "/auth/register/confirm": {"post": _op("auth", "Confirm a registration with its code", {
            "201": _json("Tokens", "Account active"), **bad}, False, "RegisterConfirm")},
        "/auth/login": {"post": _op("auth", "Log in (phone or BHXH code, password)", {
            "200": _json("Tokens"), **bad}, False, "LoginRequest")},
        "/auth/token": {"post": _op("auth", "refresh_token rotation or client_credentials", {
            "200": _json("Tokens"), **bad}, False, "TokenRequest", form=True)},
        "/auth/logout": {"post": _op("auth", "End the bearer token's session", {
            **done, **_errors(401)})},
        "/auth/password/reset": {"post": _op("auth", "Text a password reset code", {
            "202": _json("Status", "Code sent if registered"), **_errors(400, 429)},
            False, "ResetRequest")},
        "/auth/password/reset/confirm": {"post": _op("auth", "Set a new password with the code", {
            **done, **bad}, False, "ResetConfirm")},
        "/auth/family": {
            "get": _op("auth", "The account's family members", {
                "200": _json("Family"), **_errors(401, 403)}),
            "post": _op("auth", "Add a family member (Patient + RelatedPerson)", {
                "201": _json("FamilyAdded", "Member added (new tokens)"),
                **_errors(400, 401, 403, 409)}, body="FamilyMemberRequest")},
        "/auth/family/{member_id}": {"parameters": [_path("member_id")],
            "get": _op("auth", "One family member", {
                "200": _json("FamilyMember"), **_errors(401, 403, 404)}),
            "patch": _op("auth", "Change a family member", {
                "200": _json("FamilyMember"), **_errors(400, 401, 403, 404)},
                body="FamilyMemberRequest"),
            "delete": _op("auth", "Remove a family member", {
                "200": _json("Tokens", "Removed (new tokens)"), **_errors(401, 403, 404)})},
        "/auth/profile": {
            "get": _op("auth", "The account holder's profile", {
                "200": _json("Profile"), **_errors(401, 403)}),
            "patch": _op("auth", "Change the profile", {
                "200": _json("Profile"), **_errors(400, 401, 403)}, body="ProfileRequest")},
        "/auth/jwks.json": {"get": _op("auth", "Public keys of the access tokens", {
            "200": _json("JWKS")}, False)},
    }


def smart_paths() -> dict[str, dict[str, Any]]:
    """SMART App Launch: /authorize (and its pages), /token, the well-known documents."""
    page = {"200": {"description": "HTML page", "content": {"text/html": {"schema": _S}}},
            "302": {"description": "Redirect (to the next step or the redirect_uri)"},
            **_errors(400)}
    query = [{"name": n, "in": "query", "required": n in {"response_type", "client_id"},
              "schema": {"type": "string"}}
             for n in ("response_type", "client_id", "redirect_uri", "scope", "state", "aud",
                       "code_challenge", "code_challenge_method", "launch")]
    form = {"required": True, "content": {FORM_BODY: {"schema": {"type": "object"}}}}
    return {
        "/authorize": {"get": {**_op("smart", "SMART authorization (code + PKCE)", page, False),
                               "parameters": query}},
        "/authorize/continue": {"get": {**_op("smart", "Resume a sign-in", page, False),
                                        "parameters": [{"name": "req", "in": "query",
                                                        "schema": _S}]}},
        **{f"/authorize/{step}": {"post": {**_op("smart", f"Sign-in step: {step}", page, False),
                                           "requestBody": form}}
           for step in ("login", "consent", "patient")},
        "/token": {"post": _op("smart", "OAuth 2.0 token (authorization_code, refresh_token, "
                               "client_credentials)", {"200": _json("Tokens"), **_errors(400, 401)},
                               False, "TokenRequest", form=True)},
        "/.well-known/smart-configuration": {"get": _op(
            "smart", "SMART configuration", {"200": _json("SmartConfiguration")}, False)},
        "/.well-known/jwks.json": {"get": _op(
            "health-cards", "Health card issuer keys", {"200": _json("JWKS")}, False)},
        "/.well-known/crl/{kid}.json": {"parameters": [_path("kid")], "get": _op(
            "health-cards", "Revocation list of one issuer key", {
                "200": {"description": "CRL", "content": {JSON_BODY: {"schema": {
                    "type": "object"}}}}, **_errors(404)}, False)},
        "/verify": {"get": {**_op("health-cards", "Health-card verifier page (the signature is "
                                  "checked by POST /$verify-health-card)", page, False),
                            "parameters": [{"name": "lang", "in": "query", "schema": _S}]}},
        "/dashboard": {"get": {**_op("analytics", "Campaign dashboard page (analyst sign-in; "
                                     "draws the MeasureReport indicator operations)", page, False),
                               "parameters": [{"name": "lang", "in": "query", "schema": _S}]}},
    }


def service_paths() -> dict[str, dict[str, Any]]:
    """Health card files, bulk export jobs, liveness and readiness, the docs themselves."""
    anything = {"schema": {"type": "object"}}
    job = [_path("job_id")]
    return {
        "/health-cards/{card_id}.{kind}": {"parameters": [_path("card_id"), _path("kind")],
            "get": _op("health-cards", "A health card file (smart-health-card, QR image)", {
                "200": {"description": "The card", "content": {
                    "application/smart-health-card": anything, "image/png": {
                        "schema": {"type": "string", "format": "binary"}}}},
                **_errors(401, 403, 404)})},
        "/_bulk/export/{job_id}": {"parameters": job,
            "get": _op("bulk", "Bulk export status", {
                "200": {"description": "Complete: the manifest", "content": {
                    JSON_BODY: anything}},
                "202": {"description": "In progress (X-Progress)"},
                **_errors(401, 403, 404)}),
            "delete": _op("bulk", "Cancel a bulk export", {
                "202": {"description": "Cancelled"}, **_errors(401, 403, 404)})},
        "/_bulk/export/{job_id}/{file_name}": {"parameters": [*job, _path("file_name")],
            "get": _op("bulk", "One NDJSON file of an export", {
                "200": {"description": "NDJSON", "content": {"application/fhir+ndjson": {
                    "schema": _S}}}, **_errors(401, 403, 404)})},
        "/healthz": {"get": _op("infrastructure", "Liveness", {
            "200": {"description": "Alive"}}, False)},
        "/readyz": {"get": _op("infrastructure", "Readiness (database reachable, signing keys "
                                                 "loaded, indexes present)", {
            "200": {"description": "Ready"}, "503": {"description": "Not ready"}}, False)},
        "/metrics": {"get": _op("infrastructure", "Prometheus metrics (FHIR_METRICS: public, "
                                                  "token or off)", {
            "200": {"description": "Prometheus text exposition format",
                    "content": {"text/plain": {"schema": _S}}},
            **_errors(401, 404)}, False)},
        "/openapi.json": {"get": _op("infrastructure", "This OpenAPI document", {
            "200": {"description": "OpenAPI 3", "content": {JSON_BODY: anything}}}, False)},
        "/docs": {"get": _op("infrastructure", "API documentation page", {
            "200": {"description": "HTML", "content": {"text/html": {"schema": _S}}}},
            False)},
    }
