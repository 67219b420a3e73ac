"""SMART App Launch 2.x standalone patient launch, driven as a real app would: authlib's
OAuth2Session builds the authorization URL (PKCE S256), the test follows the login, consent
and patient-picker pages by posting their forms, and authlib exchanges the code over HTTP.

Spec sections: app-launch.html#obtain-authorization-code, #obtain-access-token,
#refresh-access-token; scopes-and-launch-context.html#launch-context-arrives-with-your-access_token;
conformance.html (smart-configuration).
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

from authlib.integrations.requests_client import OAuth2Session
from flask import Flask
from flask.testing import FlaskClient

from tests.api.auth_helpers import PASSWORD, bearer, register
from tests.api.smart_fixtures import *  # noqa: F403 - the fixtures
from tests.api.smart_fixtures import APP_SCOPE, REDIRECT, immunization
from tests.api.smart_pages import parse, submit
from tests.conftest import BASE_URL


def _session(client_id: str = "citizen-app", scope: str = APP_SCOPE,
             **extra: Any) -> OAuth2Session:
    return OAuth2Session(client_id, redirect_uri=REDIRECT, scope=scope,
                         code_challenge_method="S256", **extra)


def _authorize(session: OAuth2Session, verifier: str, **params: Any) -> tuple[str, str]:
    url, state = session.create_authorization_url(f"{BASE_URL}/authorize",
                                                  code_verifier=verifier, aud=BASE_URL,
                                                  **params)
    assert url.startswith(BASE_URL)
    return url[len(BASE_URL):], state


def launch(web: FlaskClient, session: OAuth2Session, verifier: str, username: str,
           pick: str | None = None) -> str:
    """Drive the pages from the authorization URL to the redirect back; its Location."""
    path, state = _authorize(session, verifier)
    page = web.get(path)
    assert page.status_code == 200 and "login" in parse(page).forms
    page = submit(web, page, "login", username=username, password=PASSWORD)
    assert page.status_code == 200 and "consent" in parse(page).forms, page.get_data(True)
    page = submit(web, page, "consent", decision="allow")
    assert page.status_code == 200 and "picker" in parse(page).forms
    back = submit(web, page, "picker", **({"patient": pick} if pick else {}))
    assert back.status_code == 302
    location = back.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    assert parse_qs(urlsplit(location).query)["state"] == [state]
    return location


def test_smart_configuration_tells_what_works(web: FlaskClient) -> None:
    """conformance.html: the endpoints, grants and PKCE methods that this server runs."""
    config = web.get("/.well-known/smart-configuration").get_json()
    assert config["authorization_endpoint"] == f"{BASE_URL}/authorize"
    assert config["token_endpoint"] == f"{BASE_URL}/token"
    assert set(config["grant_types_supported"]) == {"authorization_code", "refresh_token",
                                                    "client_credentials"}
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert {"launch-standalone", "client-public", "client-confidential-symmetric",
            "context-standalone-patient"} <= set(config["capabilities"])
    assert "openid" not in config["scopes_supported"] and "issuer" not in config
    assert "fhirUser" not in config["scopes_supported"]
    security = web.get("/metadata").get_json()["rest"][0]["security"]
    uris = {e["url"]: e["valueUri"] for e in security["extension"][0]["extension"]}
    assert uris["authorize"] == f"{BASE_URL}/authorize" and uris["token"] == f"{BASE_URL}/token"


def test_public_app_gets_only_the_chosen_patient(web: FlaskClient, token_url: str,
                                                 family: dict[str, Any]) -> None:
    """The whole flow for a public client; the token reads that patient's compartment only."""
    verifier = secrets.token_urlsafe(48)
    session = _session(token_endpoint_auth_method="none")
    location = launch(web, session, verifier, family["phone"])
    token = session.fetch_token(token_url, authorization_response=location,
                                code_verifier=verifier)
    assert token["patient"] == family["self"] and token["token_type"] == "Bearer"
    assert set(token["scope"].split()) == set(APP_SCOPE.split())
    assert token["refresh_token"] and token["expires_in"] == 600
    auth = bearer(token["access_token"])
    assert web.get(f"/Patient/{family['self']}", headers=auth).status_code == 200
    found = web.get("/Immunization", headers=auth).get_json()
    assert [e["resource"]["patient"]["reference"] for e in found.get("entry", [])] == [
        f"Patient/{family['self']}"]
    assert web.get(f"/Patient/{family['son']}", headers=auth).status_code == 404
    assert web.get(f"/Patient/{family['stranger']}", headers=auth).status_code == 404
    assert web.post("/auth/family", headers=auth, json={"full_name": "X Y",
                                                        "relationship": "SON"}
                    ).status_code == 403  # an app token never acts as the account holder


def test_family_member_picked_gives_that_member_only(web: FlaskClient, token_url: str,
                                                     family: dict[str, Any]) -> None:
    """The patient picker: choosing the son makes him the launch context."""
    verifier = secrets.token_urlsafe(48)
    session = _session(token_endpoint_auth_method="none")
    location = launch(web, session, verifier, family["phone"], pick=family["son"])
    token = session.fetch_token(token_url, authorization_response=location,
                                code_verifier=verifier)
    assert token["patient"] == family["son"]
    auth = bearer(token["access_token"])
    assert web.get(f"/Patient/{family['son']}", headers=auth).get_json()["id"] == family["son"]
    found = web.get("/Immunization", headers=auth).get_json()
    assert [e["resource"]["patient"]["reference"] for e in found.get("entry", [])] == [
        f"Patient/{family['son']}"]
    assert web.get(f"/Patient/{family['self']}", headers=auth).status_code == 404


def test_confidential_app_authenticates_with_basic(web: FlaskClient, token_url: str,
                                                   smart_app: Flask,
                                                   family: dict[str, Any]) -> None:
    """client-confidential-symmetric.html: client_secret_basic at the token endpoint."""
    verifier = secrets.token_urlsafe(48)
    scope = "launch/patient patient/*.read"
    session = _session("clinic-app", scope, client_secret=smart_app.config["SECRET"],
                       token_endpoint_auth_method="client_secret_basic")
    location = launch(web, session, verifier, family["phone"])
    token = session.fetch_token(token_url, authorization_response=location,
                                code_verifier=verifier)
    assert token.get("patient") == family["self"], token
    assert "refresh_token" not in token
    wrong = _session("clinic-app", scope, client_secret="not-the-secret",
                     token_endpoint_auth_method="client_secret_basic")
    verifier = secrets.token_urlsafe(48)
    location = launch(web, wrong, verifier, family["phone"])
    code = parse_qs(urlsplit(location).query)["code"][0]
    answer = web.post("/token", data={"grant_type": "authorization_code", "code": code,
                                      "redirect_uri": REDIRECT, "code_verifier": verifier},
                      headers={"Authorization": "Basic Y2xpbmljLWFwcDpub3BlLW5vcGU="})
    assert answer.status_code == 401 and answer.get_json()["error"] == "invalid_client"
    assert "Basic" in answer.headers["WWW-Authenticate"]
    public = web.post("/token", data={"grant_type": "authorization_code", "code": code,
                                      "client_id": "clinic-app", "redirect_uri": REDIRECT,
                                      "code_verifier": verifier})
    assert public.status_code == 401 and public.get_json()["error"] == "invalid_client"


def test_scopes_are_what_was_asked_and_consented(web: FlaskClient, token_url: str,
                                                 family: dict[str, Any]) -> None:
    """A token for patient/Immunization.rs reads Immunizations, not the Patient resource."""
    verifier = secrets.token_urlsafe(48)
    session = _session("narrow-app", "launch/patient patient/Immunization.rs",
                       token_endpoint_auth_method="none")
    location = launch(web, session, verifier, family["phone"])
    token = session.fetch_token(token_url, authorization_response=location,
                                code_verifier=verifier)
    assert token["scope"] == "launch/patient patient/Immunization.rs"
    auth = bearer(token["access_token"])
    assert web.get("/Immunization", headers=auth).status_code == 200
    assert web.get(f"/Patient/{family['self']}", headers=auth).status_code == 403
    assert web.post("/Immunization", headers=auth,
                    json=immunization(family["self"], "208")).status_code == 403


def test_refresh_token_rotates_and_a_reuse_revokes(web: FlaskClient, token_url: str,
                                                   family: dict[str, Any]) -> None:
    """app-launch.html#refresh-access-token: same scope and patient; a reuse ends it all."""
    verifier = secrets.token_urlsafe(48)
    session = _session(token_endpoint_auth_method="none")
    location = launch(web, session, verifier, family["phone"], pick=family["son"])
    first = session.fetch_token(token_url, authorization_response=location,
                                code_verifier=verifier)
    renewed = session.refresh_token(token_url, refresh_token=first["refresh_token"])
    assert renewed["patient"] == family["son"] and renewed["scope"] == first["scope"]
    assert renewed["refresh_token"] != first["refresh_token"]
    assert web.get(f"/Patient/{family['son']}",
                   headers=bearer(renewed["access_token"])).status_code == 200
    reuse = web.post("/token", data={"grant_type": "refresh_token", "client_id": "citizen-app",
                                     "refresh_token": first["refresh_token"]})
    assert reuse.status_code == 400 and reuse.get_json()["error"] == "invalid_grant"
    after = web.post("/token", data={"grant_type": "refresh_token", "client_id": "citizen-app",
                                     "refresh_token": renewed["refresh_token"]})
    assert after.status_code == 400 and after.get_json()["error"] == "invalid_grant"
    assert web.get(f"/Patient/{family['son']}",
                   headers=bearer(renewed["access_token"])).status_code == 401


def test_a_password_reset_ends_the_apps_refresh_tokens(smart_app: Flask, web: FlaskClient,
                                                       token_url: str) -> None:
    """A reset ends every session of the account, the apps' ones included."""
    from tests.api.auth_helpers import sms_codes

    citizen = register(smart_app, web, "Hoàng Thị Lan")
    verifier = secrets.token_urlsafe(48)
    session = _session(token_endpoint_auth_method="none")
    location = launch(web, session, verifier, citizen["phone"])
    token = session.fetch_token(token_url, authorization_response=location,
                                code_verifier=verifier)
    assert web.post("/auth/password/reset", json={"phone": citizen["phone"]}).status_code == 202
    smart_app.extensions["fhir"].components["auth"].accounts.flush_sms()
    done = web.post("/auth/password/reset/confirm", json={
        "phone": citizen["phone"], "code": sms_codes(smart_app, citizen["e164"])[-1],
        "new_password": "NewLotus2022"})
    assert done.status_code == 204
    refreshed = web.post("/token", data={"grant_type": "refresh_token",
                                         "client_id": "citizen-app",
                                         "refresh_token": token["refresh_token"]})
    assert refreshed.status_code == 400 and refreshed.get_json()["error"] == "invalid_grant"


def test_the_picker_reads_names_through_the_audited_door(smart_app: Flask, web: FlaskClient,
                                                         family: dict[str, Any]) -> None:
    """The names on the picker are read through the citizen's Repository, and audited."""
    launch(web, _session(), secrets.token_urlsafe(48), family["phone"])
    svc = smart_app.extensions["fhir"].internal()
    svc.components["auth"].audit.flush()
    events = [doc["res"] for doc in svc.store.store.db["AuditEvent"].find()]
    picker = [e for e in events if "SMART patient picker" in str(e)]
    assert picker
    seen = {entity.get("what", {}).get("reference") for e in picker for entity in e["entity"]}
    assert {f"Patient/{family['self']}", f"Patient/{family['son']}"} <= seen


def test_the_citizen_may_untick_scopes(web: FlaskClient, family: dict[str, Any]) -> None:
    """The token carries what was asked *and* consented: unticked scopes are not granted."""
    verifier = secrets.token_urlsafe(48)
    session = _session(token_endpoint_auth_method="none")
    path, _ = _authorize(session, verifier)
    page = submit(web, web.get(path), "login", username=family["phone"], password=PASSWORD)
    page = submit(web, page, "consent", untick=("offline_access", "online_access"),
                  decision="allow")
    back = submit(web, page, "picker")
    code = parse_qs(urlsplit(back.headers["Location"]).query)["code"][0]
    token = web.post("/token", data={"grant_type": "authorization_code", "code": code,
                                     "redirect_uri": REDIRECT, "client_id": "citizen-app",
                                     "code_verifier": verifier}).get_json()
    assert token["scope"] == "launch/patient patient/*.rs" and "refresh_token" not in token
    path, state = _authorize(session, verifier)
    page = submit(web, web.get(path), "login", username=family["phone"], password=PASSWORD)
    nothing = submit(web, page, "consent", untick=tuple(APP_SCOPE.split()), decision="allow")
    query = parse_qs(urlsplit(nothing.headers["Location"]).query)
    assert query["error"] == ["access_denied"] and query["state"] == [state]


def test_unlinking_the_member_ends_the_apps_refresh(smart_app: Flask, web: FlaskClient,
                                                    token_url: str) -> None:
    """A refresh token for a family member stops working once the member is unlinked."""
    holder = register(smart_app, web, "Đỗ Văn Hải")
    added = web.post("/auth/family", headers=bearer(holder["access_token"]),
                     json={"full_name": "Đỗ Thị Mai", "relationship": "DAU"})
    assert added.status_code == 201, added.get_json()
    member = added.get_json()["member"]
    verifier = secrets.token_urlsafe(48)
    session = _session(token_endpoint_auth_method="none")
    location = launch(web, session, verifier, holder["phone"], pick=member)
    token = session.fetch_token(token_url, authorization_response=location,
                                code_verifier=verifier)
    assert token["patient"] == member
    own = added.get_json()["access_token"]
    assert web.delete(f"/auth/family/{member}", headers=bearer(own)).status_code == 200
    refreshed = web.post("/token", data={"grant_type": "refresh_token",
                                         "client_id": "citizen-app",
                                         "refresh_token": token["refresh_token"]})
    assert refreshed.status_code == 400 and refreshed.get_json()["error"] == "invalid_grant"
