"""Fixtures of the SMART launch tests: an app with registered SMART clients, a citizen with a
son and a stranger (one Immunization each), the app served over HTTP for authlib."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from tests.api.auth_helpers import bearer, register

REDIRECT = "https://app.example.vn/callback"
APP_SCOPE = "launch/patient patient/*.rs offline_access online_access"


class Clock:
    """A clock the tests move forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def smart_app(make_app: Callable[..., Flask], clock: Clock) -> Flask:
    """An app that requires authentication, with a public and a confidential SMART app."""
    app = make_app(auth_required=True, clock=clock)
    clients = app.extensions["fhir"].components["smart"].clients
    clients.register("citizen-app", "Sổ sức khỏe", False, [REDIRECT], APP_SCOPE)
    clients.register("narrow-app", "Narrow", False, [REDIRECT],
                     "launch/patient patient/Immunization.rs")
    app.config["SECRET"] = clients.register("clinic-app", "Clinic", True, [REDIRECT],
                                            "launch/patient patient/*.read")
    return app


@pytest.fixture()
def web(smart_app: Flask) -> FlaskClient:
    return smart_app.test_client()


@pytest.fixture(scope="module")
def token_url(smart_app: Flask) -> Iterator[str]:
    """The app served over real HTTP, so authlib's fetch_token talks to it."""
    server = make_server("127.0.0.1", 0, smart_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/token"
    server.shutdown()


def immunization(patient: str, code: str) -> dict[str, Any]:
    """A completed Immunization of the patient with this CVX code."""
    return {"resourceType": "Immunization", "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": code}]},
            "patient": {"reference": f"Patient/{patient}"},
            "occurrenceDateTime": "2021-08-01"}


@pytest.fixture(scope="module")
def family(smart_app: Flask) -> dict[str, Any]:
    """A citizen with a son, a stranger, and one Immunization for each of the three."""
    web = smart_app.test_client()
    holder = register(smart_app, web, "Nguyễn Văn Bình")
    added = web.post("/auth/family", headers=bearer(holder["access_token"]),
                     json={"full_name": "Nguyễn Văn Cường", "relationship": "SON"})
    assert added.status_code == 201, added.get_json()
    stranger = register(smart_app, web, "Lê Thị Hoa")
    system = smart_app.extensions["fhir"].components["auth"].token_for("system/*.*", 600)
    ids = {"self": holder["patient"], "son": added.get_json()["member"],
           "stranger": stranger["patient"]}
    for who, patient in ids.items():
        made = web.post("/Immunization", headers=bearer(system),
                        json=immunization(patient, {"self": "208", "son": "207"}.get(who, "210")))
        assert made.status_code == 201, made.get_json()
    return {**ids, "phone": holder["phone"], "stranger_phone": stranger["phone"]}


__all__ = ["APP_SCOPE", "REDIRECT", "Clock", "clock", "family", "smart_app", "token_url",
           "web", "immunization"]
