"""DELETE of a resource that is not there (FHIR R4 http.html#delete)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask

from tests.api.helpers import created_id, patient, post


def _events(app: Flask) -> list[dict[str, Any]]:
    svc = app.extensions["fhir"].internal()
    svc.components["auth"].audit.flush()
    return [doc["res"] for doc in svc.store.store.db["AuditEvent"].find()]


def test_delete_missing_or_deleted_is_success(make_app: Callable[..., Flask]) -> None:
    """http.html#delete: "Upon successful deletion, or if the resource does not exist at all,
    the server should return either a 200 OK ... or a 204 No Content": a never-existing id and a
    second delete both answer 204 without a body; the audit records each delete as a success
    naming the resource."""
    app = make_app(audit="all")
    web = app.test_client()
    missing = str(uuid.uuid4())
    never = web.delete(f"/Patient/{missing}")
    assert never.status_code == 204 and never.data == b""
    the_id = created_id(post(web, patient()))
    assert web.delete(f"/Patient/{the_id}").status_code == 200
    again = web.delete(f"/Patient/{the_id}")
    assert again.status_code == 204 and again.data == b""
    assert web.get(f"/Patient/{missing}").status_code == 404  # nothing was created
    deletes = [e for e in _events(app) if e["subtype"][0]["code"] == "delete"]
    named = sorted(e["entity"][0]["what"]["reference"] for e in deletes)
    assert named == sorted([f"Patient/{missing}", f"Patient/{the_id}", f"Patient/{the_id}"])
    assert all(e["outcome"] == "0" for e in deletes)


def test_delete_missing_in_a_batch_is_204(make_app: Callable[..., Flask]) -> None:
    """http.html#delete inside a batch (http.html#transaction): the entry answers 204."""
    web = make_app().test_client()
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "DELETE", "url": f"Patient/{uuid.uuid4()}"}}]}
    response = web.post("/", json=bundle, headers={"Content-Type": "application/fhir+json"})
    assert response.status_code == 200
    assert response.get_json()["entry"][0]["response"]["status"].startswith("204")
