"""Issue 16 point 2 (health and metrics): /metrics labels and counters, /readyz keys and
indexes, the request id (X-Request-ID, JSON log line, AuditEvent) and no personal data in logs."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime

import orjson
import pytest
from flask import Flask
from pymongo import MongoClient

from fhir_server.logs import JsonFormatter, RequestIdFilter
from fhir_server.notify.outbox import Outbox
from fhir_server.rest.metrics import REQUEST_ID_SYSTEM, request_id
from fhir_server.storage.outbox_records import OutboxRecords
from tests.api.card_helpers import issue_card, vaccinated_patient
from tests.api.helpers import created_id, patient, post

PHONE = "+84912345678"


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition (0 when absent)."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and line.split(" ")[0] != name:
            continue
        head, _, value = line.rpartition(" ")
        found = dict(re.findall(r'(\w+)="([^"]*)"', head))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(value)
    return total


def _metrics(app: Flask) -> str:
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return response.get_data(as_text=True)


def test_requests_are_counted_by_interaction_type_and_status(app: Flask) -> None:
    web = app.test_client()
    before = _metrics(app)
    patient_id = created_id(post(web, patient()))
    assert web.get(f"/Patient/{patient_id}").status_code == 200
    assert web.get("/Patient?gender=female").status_code == 200
    assert web.get("/Patient/does-not-exist").status_code == 404
    after = _metrics(app)
    for interaction, status in (("read", "200"), ("search-type", "200"), ("read", "404"),
                                ("create", "201")):
        labels = {"interaction": interaction, "type": "Patient", "status": status}
        assert _sample(after, "fhir_http_requests_total", **labels) == \
            _sample(before, "fhir_http_requests_total", **labels) + 1, labels
    assert _sample(after, "fhir_http_request_duration_seconds_count", interaction="read",
                   type="Patient") >= 2
    assert "/Patient/" not in after  # never a raw path as a label
    assert _sample(after, "fhir_db_command_duration_seconds_count", command="find") > \
        _sample(before, "fhir_db_command_duration_seconds_count", command="find")


def test_cards_issued_and_outbox_depth_are_exposed(app: Flask) -> None:
    web = app.test_client()
    before = _sample(_metrics(app), "fhir_health_cards_issued_total")
    issue_card(web, vaccinated_patient(web))
    text = _metrics(app)
    assert _sample(text, "fhir_health_cards_issued_total") >= before + 1
    db = app.extensions["fhir"].store.store.db
    OutboxRecords(db).add(PHONE, "hello", datetime.now(UTC))
    text = _metrics(app)
    assert _sample(text, "fhir_sms_outbox_messages", status="pending") >= 1
    assert "fhir_jobs" in text
    assert PHONE not in text


def test_metrics_access_setting(make_app: Callable[..., Flask],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FHIR_METRICS", "off")
    assert make_app().test_client().get("/metrics").status_code == 404
    monkeypatch.setenv("FHIR_METRICS", "token")
    monkeypatch.setenv("FHIR_METRICS_TOKEN", "s3cret")
    web = make_app().test_client()
    assert web.get("/metrics").status_code == 401
    assert web.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert web.get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_readyz_reports_a_missing_index(make_app: Callable[..., Flask], mongo_uri: str) -> None:
    app = make_app()
    web = app.test_client()
    ready = web.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json() == {"status": "ok", "database": "ok", "keys": "ok",
                                "indexes": "ok"}
    settings = app.extensions["fhir"].settings
    with MongoClient(mongo_uri) as client:
        client[settings.database]["Patient"].drop_index("search_keys")
    missing = web.get("/readyz")
    assert missing.status_code == 503
    assert missing.get_json()["indexes"] == {"missing": ["Patient.search_keys"]}


def test_request_id_sanity() -> None:
    assert request_id("abc-123") == "abc-123"
    for bad in (None, "", "x" * 65, "a b", "a\nb", "é"):
        generated = request_id(bad)
        assert generated != bad and len(generated) == 32


def test_request_id_in_header_json_log_and_audit_event(
        make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(audit="all")
    web = app.test_client()
    caplog.handler.setFormatter(JsonFormatter())
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO, logger="fhir_server.request"):
        response = web.get("/Patient/nobody?name=Secret", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "req-42"
    lines = [orjson.loads(line) for line in caplog.text.splitlines() if line.strip()]
    line = next(doc for doc in lines if doc.get("request_id") == "req-42")
    assert line["route"] == "/<fhirtype:type_name>/<fhirid:resource_id>"
    assert line["status"] == 404 and line["method"] == "GET" and "duration_ms" in line
    assert "Secret" not in caplog.text and "nobody" not in caplog.text
    generated = web.get("/metadata").headers["X-Request-ID"]
    assert len(generated) == 32
    svc = app.extensions["fhir"].internal()
    svc.components["auth"].audit.flush()
    events = [doc["res"] for doc in svc.store.store.db["AuditEvent"].find()]
    ids = [entity["what"]["identifier"]["value"] for event in events
           for entity in event.get("entity", [])
           if entity.get("what", {}).get("identifier", {}).get("system") == REQUEST_ID_SYSTEM]
    assert "req-42" in ids


class _FailingGateway:
    def send(self, to: str, text: str) -> None:
        raise OSError(f"gateway refused {to}: {text}")


def test_no_personal_data_in_logs(make_app: Callable[..., Flask],
                                  caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()
    db = app.extensions["fhir"].store.store.db
    code = "834211"
    with caplog.at_level(logging.INFO):  # the production level (pymongo DEBUG logs commands)
        Outbox(OutboxRecords(db), _FailingGateway(), lambda: datetime.now(UTC)).enqueue(
            PHONE, f"Your code is {code}")
        web = app.test_client()
        web.post("/auth/login", json={"username": PHONE, "password": "hunter2-pass"})
        web.get("/Patient?identifier=urn:vn:cccd|001099012345&phone=" + PHONE,
                headers={"Authorization": "Bearer not-a-real-token-abc"})
        web.post("/Patient", data=b'{"resourceType":"Patient","telecom":[{"value":"'
                 + PHONE.encode() + b'"}]', headers={"Content-Type": "application/fhir+json"})
    text = caplog.text
    assert "SMS delivery failed" in text
    for secret in (PHONE, "912345678", code, "hunter2-pass", "001099012345",
                   "not-a-real-token-abc"):
        assert secret not in text, secret
    assert _sample(_metrics(app), "fhir_sms_delivery_failures_total") >= 1


