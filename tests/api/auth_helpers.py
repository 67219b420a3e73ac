"""Helpers for tests that go through real accounts: register via SMS code, log in."""

from __future__ import annotations

import itertools
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from fhir_server.notify.gateways import FileSink

_numbers = itertools.count(1)
PASSWORD = "Lotus2021vn"


def next_phone() -> str:
    """A fresh valid Vietnamese mobile number (09x xxx xxxx)."""
    return f"0981{next(_numbers) + 100000:06d}"


def sms_codes(app: Flask, phone_e164: str) -> list[str]:
    """The codes texted to a phone, oldest first (read from the file gateway)."""
    path = app.extensions["fhir"].settings.sms_gateway.split(":", 1)[1]
    return [m["text"].split(": ")[1][:6] for m in FileSink(path).messages(phone_e164)]


def bearer(token: str) -> dict[str, str]:
    """An Authorization header."""
    return {"Authorization": f"Bearer {token}"}


def register(app: Flask, client: FlaskClient, name: str = "Trần Thị Mai",
             **extra: Any) -> dict[str, Any]:
    """Register and confirm a citizen; returns the token response (+ phone)."""
    phone = next_phone()
    started = client.post("/auth/register", json={"full_name": name, "phone": phone,
                                                  "password": PASSWORD, **extra})
    assert started.status_code == 202, started.get_json()
    e164, registration = started.get_json()["phone"], started.get_json()["registration"]
    confirmed = client.post("/auth/register/confirm", json={
        "registration": registration, "code": sms_codes(app, e164)[-1]})
    assert confirmed.status_code == 201, confirmed.get_json()
    return {**confirmed.get_json(), "phone": phone, "e164": e164}


def staff_headers(app: Flask, role: str = "practitioner") -> dict[str, str]:
    """A new staff account of this role, logged in: FHIR JSON headers with its token."""
    service = app.extensions["fhir"].components["auth"]
    phone = f"0903{next(_numbers) % 1_000_000:06d}"
    service.accounts.create_staff(phone, role, "Staff2021pass", [role])
    login = app.test_client().post("/auth/login", json={"username": phone,
                                                        "password": "Staff2021pass"})
    assert login.status_code == 200, login.get_json()
    return {"Content-Type": "application/fhir+json", **bearer(login.get_json()["access_token"])}
