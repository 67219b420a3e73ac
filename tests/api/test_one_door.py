"""The one door (issue "One door to the data"): every resource a caller receives or writes
passes the Repository's check. Regression tests for the leaks the December 2026 review found,
with FHIR R4 compartmentdefinition-patient as the rule, and a proof that a door bypassing the
Repository is caught.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from fhir_server.auth.principal import ANONYMOUS, current_principal
from fhir_server.errors import Unauthorized
from fhir_server.interactions import crud
from fhir_server.operations import everything as everything_module
from fhir_server.search.criteria import EVERYTHING
from fhir_server.storage.mongo import MongoResourceStore
from tests.api.test_auth_matrix import World, _immunization

FHIR = {"Content-Type": "application/fhir+json"}


@pytest.fixture(scope="module")
def world(make_app: Callable[..., Flask]) -> World:
    return World(make_app(auth_required=True, audit="all"))


def _post(world: World, actor: str, type_name: str, body: dict[str, Any]) -> int:
    web = world.app.test_client()
    return web.post(f"/{type_name}", json={"resourceType": type_name, **body},
                    headers={**FHIR, **world.tokens[actor]}).status_code


def _count(world: World, type_name: str) -> int:
    svc = world.app.extensions["fhir"].internal()
    return svc.store.count(type_name, EVERYTHING)


def _foreign(world: World, actor: str, bundle: dict[str, Any]) -> list[str]:
    """Resources in a Bundle that this citizen may not see (leaks)."""
    mine = {world.a["patient"], world.family} if actor == "A" else {world.b["patient"]}
    leaks = []
    for entry in bundle.get("entry", []):
        resource = entry.get("resource") or {}
        kind = resource.get("resourceType")
        if kind in ("AuditEvent", "Group"):
            leaks.append(f"{kind}/{resource.get('id')}")
        text = str(resource)
        others = {world.a["patient"], world.family, world.b["patient"]} - mine
        if any(f"Patient/{other}" in text for other in others) or (
                kind == "Patient" and resource.get("id") not in mine):
            leaks.append(f"{kind}/{resource.get('id')}")
    return leaks


def test_everything_holds_no_audit_events_or_groups(world: World) -> None:
    web = world.app.test_client()
    web.get(f"/Patient/{world.a['patient']}", headers=world.tokens["A"])  # leaves AuditEvents
    world.app.extensions["fhir"].components["auth"].audit.flush()
    assert _count(world, "AuditEvent") > 0
    bundle = web.get(f"/Patient/{world.a['patient']}/$everything",
                     headers=world.tokens["A"]).get_json()
    assert bundle["resourceType"] == "Bundle"
    assert {e["resource"]["resourceType"] for e in bundle["entry"]} >= {"Patient",
                                                                        "Immunization"}
    assert _foreign(world, "A", bundle) == []


@pytest.fixture()
def bypassed_everything(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Break the door on purpose: $everything reads the raw store instead of the Repository
    (and would take the types it leaves out of the record, so only the door can stop them)."""
    original = everything_module.everything
    monkeypatch.setattr(everything_module, "NOT_RECORD", frozenset())
    # Services over a raw store: give the store the `services` slot a Repository has
    monkeypatch.setattr(MongoResourceStore, "services", None, raising=False)

    def broken(svc: Any, call: Any) -> Any:
        return original(type(svc)(store=svc.store.store, settings=svc.settings,
                                  checkers=svc.checkers, components=svc.components), call)

    from dataclasses import replace

    from fhir_server.operations import registry
    definition = registry.find("everything")
    assert definition is not None
    monkeypatch.setitem(registry._OPERATIONS, "everything", replace(definition, handler=broken))
    yield


def test_a_door_around_the_repository_is_caught(world: World, bypassed_everything: None
                                                ) -> None:
    web = world.app.test_client()
    web.get(f"/Patient/{world.a['patient']}", headers=world.tokens["A"])  # an AuditEvent...
    world.app.extensions["fhir"].components["auth"].audit.flush()  # ...stored, naming A
    bundle = web.get(f"/Patient/{world.a['patient']}/$everything",
                     headers=world.tokens["A"]).get_json()
    assert any(leak.startswith("AuditEvent/") for leak in _foreign(world, "A", bundle))


def test_citizen_writes_stay_inside_their_compartments(world: World) -> None:
    a, b = world.a["patient"], world.b["patient"]
    before = {t: _count(world, t) for t in ("Communication", "Appointment", "AdverseEvent")}
    assert _post(world, "A", "Communication", {
        "status": "completed", "subject": {"reference": f"Patient/{a}"},
        "recipient": [{"reference": f"Patient/{b}"}]}) == 403
    assert _post(world, "A", "Appointment", {"status": "proposed", "participant": [
        {"actor": {"reference": f"Patient/{a}"}, "status": "accepted"},
        {"actor": {"reference": f"Patient/{b}"}, "status": "needs-action"}]}) == 403
    assert _post(world, "A", "AdverseEvent", {
        "actuality": "actual", "subject": {"reference": f"Patient/{a}"},
        "suspectEntity": [{"instance": {"reference": f"Immunization/{world.imm['b']}"}}]}) == 403
    assert {t: _count(world, t) for t in before} == before  # refused writes store nothing
    assert _post(world, "A", "AdverseEvent", {  # the own and the family's records are fine
        "actuality": "actual", "subject": {"reference": f"Patient/{world.family}"},
        "suspectEntity": [{"instance": {"reference": f"Immunization/{world.imm['f']}"}}]}) == 201


def test_citizen_cannot_delete_a_patient(world: World) -> None:
    web = world.app.test_client()
    assert web.delete(f"/Patient/{world.family}", headers=world.tokens["A"]).status_code == 403
    assert web.delete(f"/Patient/{world.b['patient']}", headers=world.tokens["A"]
                      ).status_code == 404
    assert web.get(f"/Patient/{world.family}", headers=world.tokens["A"]).status_code == 200


def test_history_hides_versions_of_someone_else(world: World) -> None:
    svc = world.app.extensions["fhir"].internal()
    moved = crud.create(svc, "Immunization", _immunization(world.b["patient"], "LOT-MOVED"))
    corrected = {**moved.version.resource, **_immunization(world.a["patient"], "LOT-MOVED")}
    crud.update(svc, "Immunization", moved.version.id, corrected)  # a nurse corrects the patient
    web = world.app.test_client()
    url = f"/Immunization/{moved.version.id}/_history"
    own = web.get(url, headers=world.tokens["A"]).get_json()
    assert [e["resource"]["meta"]["versionId"] for e in own["entry"]] == ["2"]
    assert own["total"] == 1
    assert web.get(url + "/1", headers=world.tokens["A"]).status_code == 404
    theirs = web.get(url, headers=world.tokens["B"])
    assert theirs.status_code == 404  # the current version is not B's any more


def test_schedule_naming_another_citizen_is_hidden(world: World) -> None:
    svc = world.app.extensions["fhir"].internal()
    hers = crud.create(svc, "Schedule", {"resourceType": "Schedule", "actor": [
        {"reference": f"Patient/{world.b['patient']}"}]}).version.id
    room = crud.create(svc, "Location", {"resourceType": "Location", "name": "Room 1"})
    site = crud.create(svc, "Schedule", {"resourceType": "Schedule", "actor": [
        {"reference": f"Location/{room.version.id}"}]}).version.id
    web = world.app.test_client()
    assert web.get(f"/Schedule/{hers}", headers=world.tokens["A"]).status_code == 404
    assert web.get(f"/Schedule/{hers}", headers=world.tokens["B"]).status_code == 200
    found = web.get("/Schedule?_count=200", headers=world.tokens["A"]).get_json()
    ids = {e["resource"]["id"] for e in found.get("entry", [])}
    assert site in ids and hers not in ids


def _events_since(world: World, marker: str) -> list[dict[str, Any]]:
    world.app.extensions["fhir"].components["auth"].audit.flush()
    svc = world.app.extensions["fhir"].internal()
    return [v.resource for v in svc.store.find("AuditEvent", EVERYTHING)
            if marker in str(v.resource)]


def test_every_door_is_audited(world: World) -> None:
    web = world.app.test_client()
    marker = uuid.uuid4().hex[:10]
    admin = world.tokens["admin"]
    web.get(f"/?_type=Patient&name={marker}", headers=admin)
    web.post("/Patient/_search", data={"name": marker + "x"}, headers=admin)
    batch = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": f"Patient?name={marker}y"}},
        {"request": {"method": "GET", "url": f"Immunization?lot-number={marker}z"}}]}
    assert web.post("/", json=batch, headers={**FHIR, **admin}).status_code == 200
    events = _events_since(world, marker)
    queries = sorted(str(e.get("entity")) for e in events)
    assert any(f"name={marker}&" in q or q.endswith(f"name={marker}'}}]") for q in queries) or \
        any(f"_type=Patient&name={marker}" in q for q in queries)
    assert any(f"name={marker}x" in q for q in queries)  # POST _search: the form body
    assert any(f"name={marker}y" in q for q in queries)  # each batch entry
    assert any(f"lot-number={marker}z" in q for q in queries)
    codes = {e["subtype"][0]["code"] for e in events}
    assert {"search-system", "search-type"} <= codes


def test_refused_write_is_audited_and_trail_is_append_only(world: World) -> None:
    web = world.app.test_client()
    web.get(f"/Patient/{world.a['patient']}", headers=world.tokens["A"])  # leaves an event
    event = next(iter(_events_since(world, "Patient/")))
    for method in ("PUT", "DELETE"):
        response = web.open(f"/AuditEvent/{event['id']}", method=method, json=event,
                            headers={**FHIR, **world.tokens["admin"]})
        assert response.status_code == 403, method
    assert _post(world, "admin", "AuditEvent", {k: v for k, v in event.items()
                                                if k not in ("id", "meta")}) == 403
    marker = uuid.uuid4().hex
    web.post("/Communication", json={"resourceType": "Communication", "status": "completed",
                                     "subject": {"reference": f"Patient/{world.b['patient']}"},
                                     "note": [{"text": marker}]},
             headers={**FHIR, **world.tokens["A"]})
    world.app.extensions["fhir"].components["auth"].audit.flush()
    refused = [e for e in _events_since(world, "Communication")
               if e["outcome"] == "4" and e["subtype"][0]["code"] == "create"]
    assert refused


def test_default_caller_is_anonymous(world: World) -> None:
    assert current_principal().kind == ANONYMOUS
    unbound = world.app.extensions["fhir"]
    with pytest.raises(Unauthorized):
        crud.read(unbound, "Patient", world.a["patient"])


def test_a_chain_over_several_target_types_skips_those_the_caller_may_not_search(
        world: World) -> None:
    """search.html#chaining: Immunization `patient` may point to Patient or Group; a citizen
    may not search Group, so the chain runs over Patient alone (their own) instead of a 403;
    naming the refused type explicitly (`patient:Group.`) is still refused."""
    web = world.app.test_client()
    svc = world.app.extensions["fhir"].internal()
    mine = svc.store.read("Patient", world.a["patient"]).resource
    name = mine["name"][0]["family"]
    found = web.get(f"/Immunization?patient.family={name}", headers=world.tokens["A"])
    assert found.status_code == 200, found.get_json()
    refs = {e["resource"]["patient"]["reference"] for e in found.get_json().get("entry", [])}
    assert refs and refs <= {f"Patient/{world.a['patient']}", f"Patient/{world.family}"}
    assert web.get("/Immunization?patient.identifier=x",
                   headers=world.tokens["A"]).status_code == 200
    refused = web.get("/Immunization?patient:Group.identifier=x", headers=world.tokens["A"])
    assert refused.status_code == 403
    assert refused.get_json()["issue"][0]["code"] == "forbidden"
