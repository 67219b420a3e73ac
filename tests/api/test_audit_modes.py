"""FHIR_AUDIT: which requests leave an AuditEvent (FHIR R4 auditevent.html; security.html#audit).

`all` (the default) records every request touching personal data whoever asks: callers without
a token (refused: 401), and every request of a server run without authentication. `off`
records nothing (benchmarks and development only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from fhir_server.settings import Settings

PATIENT = {"resourceType": "Patient", "gender": "female", "birthDate": "1990-01-02"}
FHIR_JSON = {"Content-Type": "application/fhir+json"}


def _stored_events(app: Flask) -> list[dict[str, Any]]:
    svc = app.extensions["fhir"].internal()
    svc.components["auth"].audit.flush()
    return [doc["res"] for doc in svc.store.store.db["AuditEvent"].find()]


def _create_and_read(app: Flask) -> str:
    web = app.test_client()
    created = web.post("/Patient", json=PATIENT, headers=FHIR_JSON).get_json()
    assert web.get(f"/Patient/{created['id']}").status_code == 200
    return str(created["id"])


def test_default_mode_is_all() -> None:
    assert Settings.from_env({}).audit == "all"
    assert Settings.from_env({"FHIR_AUDIT": "Authenticated"}).audit == "authenticated"
    with pytest.raises(ValueError, match="FHIR_AUDIT"):
        Settings.from_env({"FHIR_AUDIT": "sometimes"})


def test_open_server_audits_every_personal_data_request(make_app: Callable[..., Flask]
                                                        ) -> None:
    app = make_app(audit="all")
    web = app.test_client()
    created = _create_and_read(app)
    web.get("/Patient?gender=female")
    web.get("/metadata")  # not personal data: no event
    events = _stored_events(app)
    subtypes = sorted(e["subtype"][0]["code"] for e in events)
    assert subtypes == ["create", "read", "search-type"]
    read = next(e for e in events if e["subtype"][0]["code"] == "read")
    assert read["agent"][0]["who"] == {"identifier": {
        "system": "urn:fhir-server:unauthenticated", "value": "open-access"}}
    assert read["agent"][0]["network"]["address"] == "127.0.0.1"
    assert read["entity"][0]["what"] == {"reference": f"Patient/{created}"}
    assert read["outcome"] == "0"


def test_refused_requests_without_token_are_audited(make_app: Callable[..., Flask]) -> None:
    app = make_app(audit="all", auth_required=True)
    web = app.test_client()
    assert web.get("/Patient/someone").status_code == 401
    assert web.get("/Patient/x", headers={"Authorization": "Bearer not.a.token"}
                   ).status_code == 401
    events = _stored_events(app)
    assert len(events) == 2
    assert {e["agent"][0]["who"]["identifier"]["system"] for e in events} == {
        "urn:fhir-server:anonymous"}
    assert {e["outcome"] for e in events} == {"4"}


def test_authenticated_mode_skips_requests_without_token(make_app: Callable[..., Flask]
                                                         ) -> None:
    app = make_app(audit="authenticated")
    _create_and_read(app)
    assert _stored_events(app) == []


def test_off_records_nothing(make_app: Callable[..., Flask]) -> None:
    app = make_app(audit="off", auth_required=True)
    assert app.test_client().get("/Patient/someone").status_code == 401
    assert _stored_events(app) == []
