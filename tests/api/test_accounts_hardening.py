"""Account hardening, issue 12 ("Hardening") points 2, 3 and 4.

2. a pending registration cannot be taken over by a second registration of the same phone;
3. login tries are counted atomically (exact limit under concurrency), with a progressive
   delay per (account, address) that never locks the account for another address;
4. reset, login and registration answer alike for phones with and without an account.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

import fhir_server.auth.accounts as accounts_module
from fhir_server.notify.gateways import FileSink
from tests.api.auth_helpers import PASSWORD, next_phone, register, sms_codes

ATTACKER_PASSWORD = "Intruder2024x"
PER_REQUEST = frozenset({"X-Request-ID"})  # a fresh id on every answer (README: Observability)
WRONG = "Wrong2024pass"


class Clock:
    """A clock the tests move forward or hold still."""

    def __init__(self) -> None:
        self.offset = timedelta()
        self.frozen: datetime | None = None

    def __call__(self) -> datetime:
        return self.frozen or datetime.now(UTC) + self.offset


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def auth_app(make_app: Callable[..., Flask], clock: Clock) -> Flask:
    """An app that requires authentication, on the movable clock."""
    return make_app(auth_required=True, clock=clock)


@pytest.fixture()
def web(auth_app: Flask) -> FlaskClient:
    return auth_app.test_client()


@pytest.fixture()
def checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Every password check the login makes (argon2 verify), in order."""
    seen: list[bool] = []
    lock, real = threading.Lock(), accounts_module.verify_password

    def counting(stored: str | None, password: str) -> bool:
        with lock:
            seen.append(stored is not None)
        return real(stored, password)

    monkeypatch.setattr(accounts_module, "verify_password", counting)
    yield seen


def _headers(response: Any) -> dict[str, str]:
    """The answer's headers but those that differ on every request."""
    return {k: v for k, v in response.headers.items() if k not in PER_REQUEST}


def _login(client: FlaskClient, username: str, password: str, address: str) -> Any:
    return client.post("/auth/login", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def _same_answer(a: Any, b: Any) -> None:
    assert (a.status_code, a.get_json(), _headers(a)) == (
        b.status_code, b.get_json(), _headers(b))


# -- point 2: registration takeover ------------------------------------------------------------

def test_second_registration_cannot_take_over_a_pending_one(auth_app: Flask, web: FlaskClient,
                                                            clock: Clock) -> None:
    """Issue 12 point 2: the victim confirming with the newest code never binds the attacker's
    password; only the registration that received its own code is confirmed."""
    phone = next_phone()
    victim = web.post("/auth/register", json={"full_name": "Victim", "phone": phone,
                                              "password": PASSWORD}).get_json()
    clock.offset += timedelta(seconds=61)  # past the one-code-a-minute gap
    attacker = auth_app.test_client().post("/auth/register", json={
        "full_name": "Intruder", "phone": phone, "password": ATTACKER_PASSWORD})
    assert attacker.status_code == 202  # accepted, but kept apart from the victim's
    victim_code, attacker_code = sms_codes(auth_app, victim["phone"])[-2:]
    confirm = {"phone": phone, "registration": victim.get("registration")}
    newest = web.post("/auth/register/confirm", json={**confirm, "code": attacker_code})
    assert newest.status_code == 400  # the attacker's code does not confirm the victim's
    done = web.post("/auth/register/confirm", json={**confirm, "code": victim_code})
    assert done.status_code == 201
    assert _login(web, phone, ATTACKER_PASSWORD, "10.2.0.1").status_code == 401
    assert _login(web, phone, PASSWORD, "10.2.0.1").status_code == 200
    late = web.post("/auth/register/confirm", json={
        "registration": attacker.get_json()["registration"], "code": attacker_code})
    assert late.status_code == 400  # the other pending registration ended with the confirm
    assert late.get_json()["resourceType"] == "OperationOutcome"


# -- point 3: lockout counter race and stranger lockout ----------------------------------------

def test_parallel_wrong_passwords_check_exactly_the_limit(auth_app: Flask, web: FlaskClient,
                                                          checks: list[bool]) -> None:
    """Issue 12 point 3: 16 parallel wrong passwords check exactly 5 (5 runs, 5 addresses)."""
    account = register(auth_app, web)

    for run in range(5):
        address, barrier = f"10.3.{run}.1", threading.Barrier(16)
        del checks[:]

        def attempt(_: int, address: str = address, barrier: threading.Barrier = barrier
                    ) -> int:
            client = auth_app.test_client()
            barrier.wait()
            return int(_login(client, account["phone"], WRONG, address).status_code)

        with ThreadPoolExecutor(16) as pool:
            statuses = sorted(pool.map(attempt, range(16)))
        assert statuses == [401] * 5 + [429] * 11, (run, statuses)
        assert len(checks) == 5, (run, len(checks))


def test_failures_from_one_address_do_not_lock_another(auth_app: Flask, web: FlaskClient,
                                                       clock: Clock) -> None:
    """Issue 12 point 3: the delay is per (account, address) and grows: 60 s, then 120 s."""
    phone = register(auth_app, web)["phone"]
    for _ in range(5):
        assert _login(web, phone, WRONG, "10.4.0.1").status_code == 401
    waiting = _login(web, phone, PASSWORD, "10.4.0.1")
    assert waiting.status_code == 429 and waiting.headers["Retry-After"] == "60"
    assert _login(web, phone, PASSWORD, "10.4.0.2").status_code == 200  # the owner elsewhere
    clock.offset += timedelta(seconds=61)
    for _ in range(5):
        assert _login(web, phone, WRONG, "10.4.0.1").status_code == 401
    longer = _login(web, phone, WRONG, "10.4.0.1")
    assert longer.status_code == 429 and longer.headers["Retry-After"] == "120"


# -- point 4: account enumeration --------------------------------------------------------------

def test_reset_answers_alike_for_known_and_unknown_phones(auth_app: Flask, web: FlaskClient,
                                                          clock: Clock) -> None:
    """Issue 12 point 4: reset twice: 202 then 429 for a real account and an unknown phone,
    same status, body and headers."""
    known = register(auth_app, web)["phone"]
    clock.frozen = clock()
    try:
        answers = {phone: [web.post("/auth/password/reset", json={"phone": phone})
                           for _ in range(2)] for phone in (known, next_phone())}
    finally:
        clock.frozen = None
    real, unknown = answers.values()
    assert [r.status_code for r in real] == [202, 429]
    for a, b in zip(real, unknown, strict=True):
        _same_answer(a, b)


def test_login_answers_alike_for_known_and_unknown_phones(auth_app: Flask, web: FlaskClient,
                                                          clock: Clock, checks: list[bool]
                                                          ) -> None:
    """Issue 12 point 4: six wrong logins: 401 x5 then 429 whether the phone has an account
    or not, same bodies and headers, and one argon2 verify per checked try either way."""
    known = register(auth_app, web)["phone"]
    clock.frozen = clock()
    try:
        answers = {phone: [_login(web, phone, WRONG, "10.5.0.1") for _ in range(6)]
                   for phone in (known, next_phone())}
    finally:
        clock.frozen = None
    real, unknown = answers.values()
    assert [r.status_code for r in real] == [401] * 5 + [429]
    for a, b in zip(real, unknown, strict=True):
        _same_answer(a, b)
    assert checks == [True] * 5 + [False] * 5  # real hash, then the dummy hash


def test_registration_answers_alike_for_known_and_unknown_phones(
        auth_app: Flask, web: FlaskClient, clock: Clock) -> None:
    """Issue 12 point 4: registering a phone that has an account answers 202 like a new phone
    (same status, body keys and headers); only the phone's owner learns by SMS that it has an
    account, and no code that could confirm a second account is ever sent."""
    known = register(auth_app, web)["phone"]
    fresh = next_phone()
    clock.offset += timedelta(seconds=61)  # past the one-code-a-minute gap of any phone
    clock.frozen = clock()
    try:
        answers = [web.post("/auth/register", json={"full_name": "B", "phone": phone,
                                                    "password": PASSWORD},
                            environ_base={"REMOTE_ADDR": "10.6.0.1"})
                   for phone in (known, fresh)]
    finally:
        clock.frozen = None
    taken, new = answers
    assert (taken.status_code, _headers(taken)) == (new.status_code, _headers(new))
    assert taken.status_code == 202
    assert sorted(taken.get_json()) == sorted(new.get_json())
    sink = FileSink(auth_app.extensions["fhir"].settings.sms_gateway.split(":", 1)[1])
    texts = [m["text"] for m in sink.messages(taken.get_json()["phone"])]
    assert "da co tai khoan" in texts[-1] and not any(ch.isdigit() for ch in texts[-1])
    guess = web.post("/auth/register/confirm", json={
        "registration": taken.get_json()["registration"], "code": "123456"})
    assert guess.status_code == 400  # no code was sent: nothing confirms a second account


def test_reset_does_not_wait_for_the_sms_gateway(auth_app: Flask, web: FlaskClient,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 12 point 4 (timing): a real account's reset answers without waiting for the
    gateway (1 s here), so its latency does not tell known phones from unknown ones."""
    account = register(auth_app, web)
    service = auth_app.extensions["fhir"].components["auth"]
    gateway = service.outbox.gateway

    class Slow:
        def send(self, phone: str, text: str) -> None:
            time.sleep(1.0)
            gateway.send(phone, text)

    monkeypatch.setattr(service.outbox, "gateway", Slow())
    before = len(sms_codes(auth_app, account["e164"]))
    started = time.perf_counter()
    assert web.post("/auth/password/reset", json={"phone": account["phone"]}
                    ).status_code == 202
    assert time.perf_counter() - started < 0.8
    service.accounts.flush_sms()
    assert len(sms_codes(auth_app, account["e164"])) == before + 1  # the text still went


def test_password_reset_ends_the_wait_everywhere(auth_app: Flask, web: FlaskClient) -> None:
    """Issue 12 point 3: the owner who resets the password logs in at once from the address
    that was waiting."""
    account = register(auth_app, web)
    for _ in range(6):
        _login(web, account["phone"], WRONG, "10.6.0.1")
    assert _login(web, account["phone"], PASSWORD, "10.6.0.1").status_code == 429
    assert web.post("/auth/password/reset", json={"phone": account["phone"]}
                    ).status_code == 202
    auth_app.extensions["fhir"].components["auth"].accounts.flush_sms()
    assert web.post("/auth/password/reset/confirm", json={
        "phone": account["phone"], "code": sms_codes(auth_app, account["e164"])[-1],
        "new_password": "NewLotus2025"}).status_code == 204
    assert _login(web, account["phone"], "NewLotus2025", "10.6.0.1").status_code == 200
