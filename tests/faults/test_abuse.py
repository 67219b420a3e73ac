"""Issue 16 point 6, abuse: the throttles the existing tests do not reach
(tests/api/test_auth_accounts.py has one code a minute per phone and five tries per code;
tests/api/test_accounts_hardening.py the login backoff per account and address). Figures from
fhir_server/auth/accounts.py and backoff.py, listed in /work/notes/readme-faults.md:

- SMS per phone: at most 5 texts an hour whatever the door (registration, including the "this
  phone has an account" notice, and password reset share one counter) and whatever the address,
  one a minute per door: no SMS-bombing;
- code requests per address: 20 an hour, across any phones;
- login attempts per address: 60 in 15 minutes, across any usernames (each try is an argon2
  verify: this bounds the CPU one address can burn, on top of the per-account backoff).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

import fhir_server.auth.accounts as accounts_module
from fhir_server.notify.gateways import FileSink
from tests.api.auth_helpers import PASSWORD, next_phone, register

START = datetime(2027, 3, 1, 9, 0, 5, tzinfo=UTC)  # just after the hour: one window throughout


class Clock:
    """A clock held still, moved by the test."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def auth_app(make_app: Callable[..., Flask], clock: Clock) -> Flask:
    """An app that requires authentication, on the held clock (its own database: counters)."""
    return make_app(auth_required=True, clock=clock)


def _register(web: FlaskClient, phone: str, address: str) -> Any:
    return web.post("/auth/register", json={"full_name": "Kẻ Gửi", "phone": phone,
                                            "password": PASSWORD},
                    environ_base={"REMOTE_ADDR": address})


def _reset(web: FlaskClient, phone: str, address: str) -> Any:
    return web.post("/auth/password/reset", json={"phone": phone},
                    environ_base={"REMOTE_ADDR": address})


def _texts(app: Flask, e164: str) -> int:
    app.extensions["fhir"].components["auth"].accounts.flush_sms()
    return len(FileSink(app.extensions["fhir"].settings.sms_gateway[5:]).messages(e164))


def test_no_sms_bombing_through_registration_and_reset(auth_app: Flask,
                                                       clock: Clock) -> None:
    web = auth_app.test_client()
    victim = register(auth_app, web, "Chủ Máy")  # one text this hour: the sign-up code
    e164 = victim["e164"]
    statuses = []
    for attempt in range(10):  # two doors, a new address each time, a minute apart
        clock.now += timedelta(seconds=61)
        send = _register if attempt % 2 else _reset
        answer = send(web, victim["phone"], f"10.66.0.{attempt}")
        statuses.append(answer.status_code)
        if answer.status_code == 429:
            assert int(answer.headers["Retry-After"]) > 0
            assert answer.get_json()["issue"][0]["code"] == "throttled"
    assert statuses == [202] * 4 + [429] * 6, statuses
    assert _texts(auth_app, e164) == 5  # the sign-up code, then four more: never a sixth
    same_minute = _reset(web, victim["phone"], "10.66.1.1")
    assert same_minute.status_code == 429
    clock.now = START + timedelta(hours=1, seconds=1)  # the next hour's window
    assert _reset(web, victim["phone"], "10.66.1.2").status_code == 202
    assert _texts(auth_app, e164) == 6


def test_code_requests_per_address(auth_app: Flask, clock: Clock) -> None:
    web = auth_app.test_client()
    answers = [_register(web, next_phone(), "10.67.0.1").status_code for _ in range(21)]
    assert answers == [202] * 20 + [429], answers
    assert _register(web, next_phone(), "10.67.0.2").status_code == 202  # another address
    clock.now += timedelta(hours=1)
    assert _register(web, next_phone(), "10.67.0.1").status_code == 202


def test_login_attempts_per_address(auth_app: Flask, clock: Clock,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts_module, "verify_password", lambda _stored, _password: False)
    web = auth_app.test_client()

    def login(username: str, address: str = "10.68.0.1") -> int:
        return int(web.post("/auth/login", json={"username": username, "password": "x"},
                            environ_base={"REMOTE_ADDR": address}).status_code)

    # 60 different usernames, each below its own backoff limit: the address limit decides
    answers = [login(next_phone()) for _ in range(61)]
    assert answers == [401] * 60 + [429], answers
    assert login(next_phone(), "10.68.0.2") == 401  # another address is not affected
    clock.now += timedelta(minutes=15)
    assert login(next_phone()) == 401
