"""Doors that are audited although they are refused before a resource is read, or serve no
resource from the database (issue 11 point 3; regressions the authorization matrix found).

FHIR R4 security.html#audit: "all access to (attempted or successful) ... should be audited";
auditevent.html: the outcome records a refused attempt (4, minor failure) as well as a success.
Bulk Data Access IG v2 export.html: the kick-off and the output files are personal-data doors
(the files hold every patient's records), so both are recorded, allowed or refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from fhir_server.auth.principal import INTERNAL_PRINCIPAL, acting_as
from fhir_server.interactions import crud
from tests.api.test_auth_matrix import World
from tests.conftest import BASE_URL

FHIR = {"Content-Type": "application/fhir+json"}


@pytest.fixture(scope="module")
def world(make_app: Callable[..., Flask], tmp_path_factory: pytest.TempPathFactory) -> World:
    exports = tmp_path_factory.mktemp("audit-door-exports")
    return World(make_app(auth_required=True, audit="all", export_dir=str(exports)))


@pytest.fixture(scope="module")
def group(world: World) -> str:
    """A Group of citizen B (a cohort for Group/[id]/$export)."""
    svc = world.app.extensions["fhir"].internal()
    cohort = {"resourceType": "Group", "type": "person", "actual": True,
              "member": [{"entity": {"reference": f"Patient/{world.b['patient']}"}}]}
    with acting_as(INTERNAL_PRINCIPAL):
        return f"Group/{crud.create(svc, 'Group', cohort).version.id}"


@pytest.fixture()
def seen(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """The AuditEvents the server hands to its audit sink during a test."""
    sink = world.app.extensions["fhir"].components["auth"].audit
    events: list[dict[str, Any]] = []
    original = sink.record

    def record(event: dict[str, Any]) -> None:
        original(event)
        events.append(event)

    monkeypatch.setattr(sink, "record", record)
    yield events


def _call(world: World, seen: list[dict[str, Any]], actor: str, method: str, url: str,
          body: Any = None) -> tuple[int, dict[str, Any]]:
    """Perform one request; its status and the one AuditEvent it left (stored)."""
    seen.clear()
    response = world.app.test_client().open(url, method=method, json=body,
                                            headers={**FHIR, **world.tokens[actor]})
    assert len(seen) == 1, (url, actor, response.status_code, seen)
    event = seen[0]
    world.app.extensions["fhir"].components["auth"].audit.flush()
    stored = world.app.extensions["fhir"].internal().store.store.db["AuditEvent"]
    assert stored.find_one({"res.id": event["id"]}) is not None
    return response.status_code, event


def _described(event: dict[str, Any]) -> list[str]:
    """The entities' descriptions or references (the request-id entity has neither)."""
    return [str(e.get("description") or e["what"]["reference"]) for e in event["entity"]
            if "description" in e or "reference" in e.get("what", {})]


@pytest.mark.parametrize(("url", "subtype", "named"), [
    ("/Immunization/_history", "history-type", "type Immunization"),
    ("/AdverseEvent/_history?_since=2000-01-01T00:00:00Z", "history-type", "type AdverseEvent"),
    ("/AuditEvent/_history", "history-type", "type AuditEvent"),
    ("/_history", "history-system", "type *"),
])
def test_refused_type_and_system_history_is_audited(world: World, seen: list[dict[str, Any]],
                                                    url: str, subtype: str, named: str) -> None:
    for actor, refused in (("anonymous", 401), ("A", 403), ("analyst", 403)):
        status, event = _call(world, seen, actor, "GET", url)
        assert status == refused, (actor, url)
        assert event["outcome"] == "4" and event["subtype"][0]["code"] == subtype
        assert named in _described(event)
    status, event = _call(world, seen, "admin", "GET", url)  # names what it returned
    assert status == 200 and event["outcome"] == "0"


def _cancel(world: World, location: str) -> None:
    world.app.test_client().delete(location.removeprefix(BASE_URL),
                                   headers=world.tokens["system"])


def test_export_kick_off_is_audited_allowed_or_refused(world: World, group: str,
                                                       seen: list[dict[str, Any]]) -> None:
    for url, named in (("/$export?_type=Organization", "type Organization"),
                       ("/$export", "type *"),
                       ("/Patient/$export?_type=Patient", "type Patient"),
                       (f"/{group}/$export?_type=Patient", group)):
        for actor, refused in (("anonymous", 401), ("A", 403), ("practitioner", 403)):
            status, event = _call(world, seen, actor, "GET", url)
            assert status == refused, (actor, url)
            assert event["outcome"] == "4" and event["subtype"][0]["code"] == "operation"
            assert named in _described(event) and "$export" in str(event["entity"])
        seen.clear()
        response = world.app.test_client().get(url, headers=world.tokens["system"])
        assert response.status_code == 202
        job = response.headers["Content-Location"].rsplit("/", 1)[1]
        mine = [e for e in seen if "urn:fhir-server:system" in str(e["agent"])]  # not the job's
        assert len(mine) == 1 and mine[0]["outcome"] == "0" and named in _described(mine[0])
        assert f"(job {job})" in str(mine[0]["entity"])  # the kick-off names its job
        _cancel(world, response.headers["Content-Location"])


def test_export_file_download_is_audited_allowed_or_refused(world: World,
                                                            seen: list[dict[str, Any]]) -> None:
    web = world.app.test_client()
    system = world.tokens["system"]
    started = web.get("/Patient/$export?_type=Patient", headers=system)
    status_url = started.headers["Content-Location"].removeprefix(BASE_URL)
    deadline = time.monotonic() + 60
    while (polled := web.get(status_url, headers=system)).status_code == 202:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    item = polled.get_json()["output"][0]
    url = item["url"].removeprefix(BASE_URL)
    job, name = Path(url).parent.name, Path(url).name
    for actor, expected in (("system", 200), ("admin", 200), ("anonymous", 401), ("A", 403),
                            ("analyst", 403)):
        status, event = _call(world, seen, actor, "GET", url)
        assert status == expected, actor
        assert event["outcome"] == ("0" if expected == 200 else "4")
        assert event["subtype"][0]["code"] == "read"
        assert "type Patient" in _described(event)
        assert f"$export job {job} file {name}" in _described(event)
    status, event = _call(world, seen, "system", "GET", f"{status_url}/Nothing-1.ndjson")
    assert status == 404 and "type *" in _described(event)  # not a file of the job: still noted
    _cancel(world, status_url)


def test_refused_verify_identity_is_audited(world: World, seen: list[dict[str, Any]]) -> None:
    patient = f"Patient/{world.b['patient']}"
    for actor, refused in (("anonymous", 401), ("A", 403), ("B", 403), ("analyst", 403)):
        status, event = _call(world, seen, actor, "POST", f"/{patient}/$verify-identity",
                              {"resourceType": "Parameters"})
        assert status == refused, actor
        assert event["outcome"] == "4" and event["subtype"][0]["code"] == "operation"
        assert {"what": {"reference": patient}} in event["entity"]
        assert "$verify-identity" in _described(event)
