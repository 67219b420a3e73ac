"""Citizen accounts: registration by SMS code, login by phone or BHXH, tokens, reset, family.

Issue "Citizen accounts with SMS OTP...": points 1-4 and 6; RFC 6749 section 6 (refresh),
RFC 6750 section 3 (WWW-Authenticate on 401).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from fhir_server.auth.otp import OtpCodes
from tests.api.auth_helpers import PASSWORD, bearer, next_phone, register, sms_codes


@pytest.fixture(scope="module")
def auth_app(make_app: Callable[..., Flask]) -> Flask:
    """An app that requires authentication."""
    return make_app(auth_required=True)


@pytest.fixture()
def web(auth_app: Flask) -> FlaskClient:
    return auth_app.test_client()


def test_register_confirm_creates_linked_patient(auth_app: Flask, web: FlaskClient) -> None:
    tokens = register(auth_app, web, "Nguyễn Thị Hoa", bhxh="0123456789",
                      birthDate="1990-01-02", gender="female")
    patient = web.get(f"/Patient/{tokens['patient']}", headers=bearer(tokens["access_token"]))
    assert patient.status_code == 200
    body = patient.get_json()
    assert body["name"][0]["family"] == "Nguyễn" and body["name"][0]["given"] == ["Thị", "Hoa"]
    assert body["telecom"][0]["value"] == tokens["e164"]
    assert {"system": "urn:vn:bhxh", "value": "0123456789"} in body["identifier"]
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]


def test_registration_bad_input_changes_nothing(auth_app: Flask, web: FlaskClient) -> None:
    phone = next_phone()
    weak = web.post("/auth/register", json={"full_name": "A", "phone": phone,
                                            "password": "123"})
    assert weak.status_code == 400 and weak.get_json()["issue"][0]["expression"] == ["password"]
    bad_phone = web.post("/auth/register", json={"full_name": "A", "phone": "12",
                                                 "password": PASSWORD})
    assert bad_phone.status_code == 400
    started = web.post("/auth/register", json={"full_name": "A", "phone": phone,
                                               "password": PASSWORD})
    e164, registration = started.get_json()["phone"], started.get_json()["registration"]
    code = sms_codes(auth_app, e164)[-1]
    wrong = "000000" if code != "000000" else "111111"
    confirm = {"registration": registration, "code": wrong}
    assert web.post("/auth/register/confirm", json=confirm).status_code == 400
    assert web.post("/auth/register/confirm", json={**confirm, "code": "abc"}
                    ).status_code == 400
    missing = web.post("/auth/register/confirm", json={"phone": phone, "code": code})
    assert missing.status_code == 400  # the registration id is required
    assert missing.get_json()["issue"][0]["expression"] == ["registration"]
    accounts = auth_app.extensions["fhir"].components["auth"].accounts
    assert accounts.find_by_phone(e164) is None  # pending: no account yet
    assert web.post("/auth/register/confirm", json={**confirm, "code": code}
                    ).status_code == 201
    replay = web.post("/auth/register/confirm", json={**confirm, "code": code})
    assert replay.status_code == 400  # a used code cannot be replayed
    duplicate = web.post("/auth/register", json={"full_name": "B", "phone": phone,
                                                 "password": PASSWORD})
    assert duplicate.status_code == 429  # one code a minute per phone, account or not
    assert accounts.find_by_phone(e164)["name"] != "B"  # the account is untouched


def test_code_attempts_and_expiry(auth_app: Flask, web: FlaskClient) -> None:
    phone = next_phone()
    started = web.post("/auth/register", json={"full_name": "A", "phone": phone,
                                               "password": PASSWORD}).get_json()
    e164, registration = started["phone"], started["registration"]
    code = sms_codes(auth_app, e164)[-1]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        web.post("/auth/register/confirm", json={"registration": registration, "code": wrong})
    exhausted = web.post("/auth/register/confirm",
                         json={"registration": registration, "code": code})
    assert exhausted.status_code == 400  # five wrong attempts burn the code
    otps = auth_app.extensions["fhir"].components["auth"].otp
    hour_ago = OtpCodes(otps.records, otps.secret, lambda: otps.clock() - timedelta(hours=1))
    fresh = hour_ago.issue("register", registration)  # expired 55 minutes ago
    expired = web.post("/auth/register/confirm",
                       json={"registration": registration, "code": fresh})
    assert expired.status_code == 400 and "expired" in expired.get_json()["issue"][0][
        "diagnostics"]


def test_sending_is_throttled_per_phone(web: FlaskClient) -> None:
    phone = next_phone()
    body = {"full_name": "A", "phone": phone, "password": PASSWORD}
    assert web.post("/auth/register", json=body).status_code == 202
    again = web.post("/auth/register", json=body)
    assert again.status_code == 429 and int(again.headers["Retry-After"]) > 0


def test_login_by_phone_or_bhxh_and_lockout(auth_app: Flask, web: FlaskClient) -> None:
    tokens = register(auth_app, web, bhxh="0987654321")
    by_phone = web.post("/auth/login", json={"username": tokens["phone"], "password": PASSWORD})
    assert by_phone.status_code == 200 and by_phone.get_json()["patient"] == tokens["patient"]
    by_bhxh = web.post("/auth/login", json={"bhxh": "0987654321", "password": PASSWORD})
    assert by_bhxh.status_code == 200
    wrong = web.post("/auth/login", json={"username": tokens["phone"], "password": "nope1234"})
    assert wrong.status_code == 401
    for _ in range(5):
        web.post("/auth/login", json={"username": tokens["phone"], "password": "nope1234"})
    locked = web.post("/auth/login", json={"username": tokens["phone"], "password": PASSWORD})
    assert locked.status_code == 429


def test_refresh_rotation_and_reuse_detection(auth_app: Flask, web: FlaskClient) -> None:
    tokens = register(auth_app, web)
    first = web.post("/auth/token", data={"grant_type": "refresh_token",
                                          "refresh_token": tokens["refresh_token"]})
    assert first.status_code == 200
    rotated = first.get_json()
    reuse = web.post("/auth/token", data={"grant_type": "refresh_token",
                                          "refresh_token": tokens["refresh_token"]})
    assert reuse.status_code == 401
    revoked = web.post("/auth/token", data={"grant_type": "refresh_token",
                                            "refresh_token": rotated["refresh_token"]})
    assert revoked.status_code == 401  # reuse of an old token revoked the whole session


def test_logout_revokes_access_and_refresh(auth_app: Flask, web: FlaskClient) -> None:
    tokens = register(auth_app, web)
    headers = bearer(tokens["access_token"])
    assert web.get(f"/Patient/{tokens['patient']}", headers=headers).status_code == 200
    assert web.post("/auth/logout", headers=headers).status_code == 204
    after = web.get(f"/Patient/{tokens['patient']}", headers=headers)
    assert after.status_code == 401 and "invalid_token" in after.headers["WWW-Authenticate"]
    assert web.post("/auth/token", data={"grant_type": "refresh_token",
                                         "refresh_token": tokens["refresh_token"]}
                    ).status_code == 401


def test_password_reset(auth_app: Flask, web: FlaskClient) -> None:
    tokens = register(auth_app, web)
    assert web.post("/auth/password/reset", json={"phone": tokens["phone"]}).status_code == 202
    auth_app.extensions["fhir"].components["auth"].accounts.flush_sms()
    code = sms_codes(auth_app, tokens["e164"])[-1]
    weak = web.post("/auth/password/reset/confirm", json={
        "phone": tokens["phone"], "code": code, "new_password": "weak"})
    assert weak.status_code == 400
    done = web.post("/auth/password/reset/confirm", json={
        "phone": tokens["phone"], "code": code, "new_password": "NewLotus2022"})
    assert done.status_code == 204
    assert web.get(f"/Patient/{tokens['patient']}", headers=bearer(tokens["access_token"])
                   ).status_code == 401  # every session ended
    assert web.post("/auth/login", json={"username": tokens["phone"],
                                         "password": "NewLotus2022"}).status_code == 200
    unknown = web.post("/auth/password/reset", json={"phone": next_phone()})
    assert unknown.status_code == 202  # same answer: no account discovery


def test_malformed_tokens(web: FlaskClient) -> None:
    for header in ("Bearer", "Basic abc", "Bearer a.b.c", "Bearer " + "x" * 9000):
        response = web.get("/Patient", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.get_json()["resourceType"] == "OperationOutcome"
    anonymous = web.get("/Patient")
    assert anonymous.status_code == 401


def test_family_members(auth_app: Flask, web: FlaskClient) -> None:
    holder = register(auth_app, web, "Lê Văn Bình")
    added = web.post("/auth/family", headers=bearer(holder["access_token"]), json={
        "full_name": "Lê Minh Anh", "birthDate": "2016-04-01", "gender": "female",
        "relationship": "DAU"})
    assert added.status_code == 201, added.get_json()
    member = added.get_json()
    token = member["access_token"]
    assert web.get(f"/Patient/{member['member']}", headers=bearer(token)).status_code == 200
    related = web.get(f"/RelatedPerson/{member['relatedPerson']}", headers=bearer(token))
    assert related.status_code == 200
    # relatedperson.html: the holder's role to the member (a parent of unknown gender)
    assert related.get_json()["relationship"][0]["coding"][0]["code"] == "PRN"
    listing = web.get("/auth/family", headers=bearer(token)).get_json()
    assert listing["family"] == [member["member"]]
    assert listing["members"][0]["relationship"] == "DAU"  # what the member is to the holder
    bad = web.post("/auth/family", headers=bearer(token), json={"full_name": "X",
                                                                "relationship": "BOSS"})
    assert bad.status_code == 400


def test_smart_configuration(web: FlaskClient) -> None:
    config = web.get("/.well-known/smart-configuration").get_json()
    assert config["token_endpoint"].endswith("/token")
    assert "client-confidential-asymmetric" in config["capabilities"]
    assert "private_key_jwt" in config["token_endpoint_auth_methods_supported"]
