"""The health record (Hồ sơ sức khỏe) over HTTP as the app walks it (issue 14 point 11).

R4 patient-operation-everything.html: GET Patient/[id]/$everything returns the patient and
its compartment; `_since` (instant: resources updated after it), `_type` (one or more
parameters of comma-separated types), `_count` (page size) with `next` links (http.html#paging).
The record is the clinical record: never the audit trail (AuditEvent) nor cohorts (Group).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask

from fhir_server.auth.principal import INTERNAL_PRINCIPAL, acting_as
from fhir_server.interactions import crud
from tests.api.test_auth_matrix import World
from tests.conftest import BASE_URL

FHIR = {"Content-Type": "application/fhir+json"}


@pytest.fixture(scope="module")
def world(make_app: Callable[..., Flask]) -> World:
    world = World(make_app(auth_required=True, audit="all"))
    svc = world.app.extensions["fhir"].internal()
    with acting_as(INTERNAL_PRINCIPAL):  # a cohort naming A, and a few more of A's records
        crud.create(svc, "Group", {"resourceType": "Group", "type": "person", "actual": True,
                                   "member": [{"entity": {
                                       "reference": f"Patient/{world.a['patient']}"}}]})
        for value in range(4):
            crud.create(svc, "Observation", {
                "resourceType": "Observation", "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                "subject": {"reference": f"Patient/{world.a['patient']}"},
                "valueInteger": 60 + value})
    web = world.app.test_client()
    web.get(f"/Patient/{world.a['patient']}", headers=world.tokens["A"])  # AuditEvents on A
    world.app.extensions["fhir"].components["auth"].audit.flush()
    return world


def _get(world: World, actor: str, url: str) -> Any:
    return world.app.test_client().get(url, headers=world.tokens[actor])


def _walk(world: World, actor: str, url: str) -> list[dict[str, Any]]:
    """Every page, following next links as the app does."""
    pages: list[dict[str, Any]] = []
    while url:
        response = _get(world, actor, url)
        assert response.status_code == 200, response.get_json()
        pages.append(response.get_json())
        nexts = [link["url"] for link in pages[-1]["link"] if link["relation"] == "next"]
        url = ""
        if nexts:
            assert nexts[0].startswith(BASE_URL)
            parts = urlsplit(nexts[0].removeprefix(BASE_URL))
            url = f"{parts.path}?{parts.query}"
        assert len(pages) < 30
    return pages


def _kinds(pages: list[dict[str, Any]]) -> list[str]:
    return [f"{e['resource']['resourceType']}/{e['resource']['id']}" for p in pages
            for e in p.get("entry", [])]


def _audit_events(world: World, patient_id: str) -> int:
    response = _get(world, "admin", f"/AuditEvent?patient=Patient/{patient_id}&_summary=count")
    return int(response.get_json()["total"])


# self and a linked family member: the clinical record, never AuditEvent or Group (not even
# for an administrator, who could search both)
def test_record_of_self_and_family_holds_no_audit_trail(world: World) -> None:
    assert _audit_events(world, world.a["patient"]) > 0  # the audit trail exists...
    for actor, patient in (("A", world.a["patient"]), ("A", world.family),
                           ("admin", world.a["patient"])):
        kinds = _kinds(_walk(world, actor, f"/Patient/{patient}/$everything"))
        assert kinds[0] == f"Patient/{patient}"
        types = {k.split("/")[0] for k in kinds}
        assert "Immunization" in types and not types & {"AuditEvent", "Group"}, types
    mine = _kinds(_walk(world, "A", f"/Patient/{world.a['patient']}/$everything"))
    assert sum(k.startswith("Observation/") for k in mine) == 4


# paged with next links whenever more exists: nothing lost or repeated, _type kept on each page
def test_record_pages_follow_next_links(world: World) -> None:
    url = f"/Patient/{world.a['patient']}/$everything"
    whole = _kinds(_walk(world, "A", url))
    pages = _walk(world, "A", f"{url}?_count=2")
    assert len(pages) == -(-len(whole) // 2) and _kinds(pages) == whole
    assert all(len(page["entry"]) == 2 for page in pages[:-1])
    narrowed = _walk(world, "A", f"{url}?_type=Observation&_type=Immunization&_count=1")
    assert {k.split("/")[0] for k in _kinds(narrowed)} == {"Patient", "Observation",
                                                           "Immunization"}
    assert len(_kinds(narrowed)) == 6 and len(narrowed) == 6
    assert all("_type=Immunization%2CObservation" in link["url"] or "_type=Immunization,"
               "Observation" in link["url"] for page in narrowed for link in page["link"])


# _since: only what changed after it (the Patient heads the record)
def test_record_since(world: World) -> None:
    url = f"/Patient/{world.a['patient']}/$everything"
    kinds = _kinds(_walk(world, "A", f"{url}?_since=2999-01-01T00:00:00Z"))
    assert kinds == [f"Patient/{world.a['patient']}"]
    since = _kinds(_walk(world, "A", f"{url}?_since=2000-01-01T00:00:00Z"))
    assert since == _kinds(_walk(world, "A", url))


# bad input: clear OperationOutcomes (400 naming the parameter), someone else's record 404;
# nothing is changed
def test_record_bad_input(world: World) -> None:
    patient = world.a["patient"]
    before = _get(world, "admin", f"/Patient/{patient}").get_json()["meta"]["versionId"]
    for query, text in (("_since=yesterday", "yesterday"), ("_type=Nope", "Nope"),
                        ("_type=AuditEvent", "not part of the health record"),
                        ("_type=Group", "not part of the health record"),
                        ("_type=Organization", "not in the Patient compartment"),
                        ("_count=many", "_count"), ("_cursor=garbage", "_cursor")):
        response = _get(world, "A", f"/Patient/{patient}/$everything?{query}")
        assert response.status_code == 400, query
        issue = response.get_json()["issue"][0]
        assert text in issue["diagnostics"], (query, issue)
        assert issue["expression"] == [query.split("=")[0]]
    other = _get(world, "A", f"/Patient/{world.b['patient']}/$everything")
    assert other.status_code == 404 and other.get_json()["resourceType"] == "OperationOutcome"
    assert _get(world, "B", f"/Patient/{world.family}/$everything").status_code == 404
    after = _get(world, "admin", f"/Patient/{patient}").get_json()["meta"]["versionId"]
    assert after == before
