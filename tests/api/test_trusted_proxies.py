"""Behind a load balancer (issue 16, production at national scale): with FHIR_TRUSTED_PROXIES=N
the client address is the one the Nth proxy saw (X-Forwarded-For, werkzeug ProxyFix), so the
per-address throttles and the AuditEvent's agent.network.address (FHIR R4 AuditEvent) name the
citizen, not the balancer; with the default 0 a client cannot forge its address."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from fhir_server.settings import Settings
from tests.api.test_audit_modes import FHIR_JSON, PATIENT

BALANCER = {"REMOTE_ADDR": "10.0.0.5"}
FORWARDED = {"X-Forwarded-For": "203.0.113.7", **FHIR_JSON}


def _read_addresses(app: Flask) -> list[str]:
    svc: Any = app.extensions["fhir"].internal()
    svc.components["auth"].audit.flush()  # the spooled AuditEvents, stored now
    events = [doc["res"] for doc in svc.store.store.db["AuditEvent"].find()]
    return [e["agent"][0]["network"]["address"] for e in events
            if e["subtype"][0]["code"] == "create"]


def test_the_forwarded_address_counts_behind_a_trusted_proxy(make_app: Callable[..., Flask]
                                                            ) -> None:
    app = make_app(audit="all", trusted_proxies=1)
    web = app.test_client()
    created = web.post("/Patient", json=PATIENT, headers=FORWARDED, environ_base=BALANCER)
    assert created.status_code == 201
    assert _read_addresses(app) == ["203.0.113.7"]


def test_without_trusted_proxies_the_header_is_ignored(make_app: Callable[..., Flask]) -> None:
    app = make_app(audit="all")
    web = app.test_client()
    created = web.post("/Patient", json=PATIENT, headers=FORWARDED, environ_base=BALANCER)
    assert created.status_code == 201
    assert _read_addresses(app) == ["10.0.0.5"]


def test_setting_is_read_and_checked() -> None:
    assert Settings.from_env({}).trusted_proxies == 0
    assert Settings.from_env({"FHIR_TRUSTED_PROXIES": "2"}).trusted_proxies == 2
    with pytest.raises(ValueError, match="FHIR_TRUSTED_PROXIES"):
        Settings.from_env({"FHIR_TRUSTED_PROXIES": "-1"})
