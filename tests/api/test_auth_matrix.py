"""Authorization matrix: (citizen A, citizen B, A's family member, site system, analyst, admin,
practitioner, anonymous) x (interactions and operations), asserting allowed/denied and that no
resource outside a citizen's compartments ever shows (issue "Citizen accounts...", point 7/10;
SMART App Launch "patient/" scopes; FHIR R4 compartmentdefinition-patient).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from jwcrypto import jwk, jwt

from fhir_server.auth.principal import INTERNAL_PRINCIPAL, acting_as
from fhir_server.health_cards.identity import mark_verified
from fhir_server.interactions import crud
from tests.api.auth_helpers import bearer, register
from tests.conftest import BASE_URL


def _immunization(patient_id: str, lot: str) -> dict[str, Any]:
    return {"resourceType": "Immunization", "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "208"}]},
            "patient": {"reference": f"Patient/{patient_id}"},
            "occurrenceDateTime": "2021-09-10", "lotNumber": lot,
            "location": {"display": "Trạm y tế"}, "performer": [{"actor": {"display": "ĐD. Hà"}}],
            "protocolApplied": [{"doseNumberPositiveInt": 1}]}


def _reaction(patient_id: str) -> dict[str, Any]:
    return {"resourceType": "AdverseEvent", "actuality": "actual",
            "subject": {"reference": f"Patient/{patient_id}"}, "date": "2021-09-11"}


class World:
    """Accounts, tokens and records shared by the matrix tests."""

    def __init__(self, app: Flask, verified: bool = False) -> None:
        self.app = app
        web = app.test_client()
        self.a = register(app, web, "Phạm Văn Alpha")
        member = web.post("/auth/family", headers=bearer(self.a["access_token"]), json={
            "full_name": "Phạm Thị Family", "birthDate": "2015-01-01", "gender": "female",
            "relationship": "DAU"}).get_json()
        self.a["access_token"] = member["access_token"]
        self.family = member["member"]
        self.b = register(app, web, "Đỗ Văn Beta")
        svc = app.extensions["fhir"].internal()
        service = svc.components["auth"]
        with acting_as(INTERNAL_PRINCIPAL):
            self.imm = {who: crud.create(svc, "Immunization", _immunization(pid, f"LOT-{who}")
                                         ).version.id
                        for who, pid in (("a", self.a["patient"]), ("f", self.family),
                                         ("b", self.b["patient"]))}
            self.reaction_b = crud.create(svc, "AdverseEvent", _reaction(self.b["patient"])
                                          ).version.id
            self.org = crud.create(svc, "Organization", {"resourceType": "Organization",
                                                         "name": "CDC"}).version.id
            for pid in (self.a["patient"], self.family, self.b["patient"]) if verified else ():
                # a site verified their identity (cards are issued from verified data only)
                stored = svc.store.read("Patient", pid).resource or {}
                svc.store.update("Patient", pid, mark_verified(stored, "site-nurse",
                                                               "2021-09-10T08:00:00+07:00"))
        self.tokens: dict[str, dict[str, str]] = {
            "A": bearer(self.a["access_token"]), "B": bearer(self.b["access_token"]),
            "anonymous": {},
            "system": bearer(service.token_for("system/*.read", 600, "site-system")),
        }
        for role in ("analyst", "admin", "practitioner"):
            phone = f"0903{uuid.uuid4().int % 1_000_000:06d}"
            service.accounts.create_staff(phone, role, "Staff2021pass", [role])
            login = web.post("/auth/login", json={"username": phone,
                                                  "password": "Staff2021pass"})
            self.tokens[role] = bearer(login.get_json()["access_token"])


@pytest.fixture(scope="module")
def world(make_app: Callable[..., Flask]) -> World:
    return World(make_app(auth_required=True), verified=True)


def _status(world: World, actor: str, method: str, url: str, body: Any = None) -> int:
    client = world.app.test_client()
    headers = {"Content-Type": "application/fhir+json", **world.tokens[actor]}
    response = client.open(url, method=method, json=body, headers=headers)
    return response.status_code


READ_MATRIX = {  # url key -> expected status per actor
    "patient_a": {"A": 200, "B": 404, "system": 200, "analyst": 403, "admin": 200,
                  "practitioner": 200, "anonymous": 401},
    "family": {"A": 200, "B": 404, "system": 200, "analyst": 403, "admin": 200,
               "practitioner": 200, "anonymous": 401},
    "imm_b": {"A": 404, "B": 200, "system": 200, "analyst": 403, "admin": 200,
              "practitioner": 200, "anonymous": 401},
    "org": {"A": 200, "B": 200, "system": 200, "analyst": 200, "admin": 200,
            "practitioner": 200, "anonymous": 401},
    "history_b": {"A": 404, "B": 200, "system": 200, "analyst": 403, "admin": 200,
                  "practitioner": 200, "anonymous": 401},
    "type_history": {"A": 403, "B": 403, "system": 200, "analyst": 403, "admin": 200,
                     "practitioner": 200, "anonymous": 401},
    "audit": {"A": 403, "B": 403, "system": 200, "analyst": 403, "admin": 200,
              "practitioner": 403, "anonymous": 401},
}


def _urls(world: World) -> dict[str, str]:
    return {"patient_a": f"/Patient/{world.a['patient']}", "family": f"/Patient/{world.family}",
            "imm_b": f"/Immunization/{world.imm['b']}", "org": f"/Organization/{world.org}",
            "history_b": f"/Patient/{world.b['patient']}/_history",
            "type_history": "/Immunization/_history", "audit": "/AuditEvent"}


@pytest.mark.parametrize("actor", ["A", "B", "system", "analyst", "admin", "practitioner",
                                   "anonymous"])
def test_read_matrix(world: World, actor: str) -> None:
    urls = _urls(world)
    for key, expected in READ_MATRIX.items():
        assert _status(world, actor, "GET", urls[key]) == expected[actor], (actor, key)


def _ids(world: World, actor: str, url: str) -> set[str]:
    response = world.app.test_client().get(url, headers=world.tokens[actor])
    assert response.status_code == 200, response.get_json()
    return {e["resource"]["id"] for e in response.get_json().get("entry", [])}


def test_searches_never_leak(world: World) -> None:
    mine = {world.imm["a"], world.imm["f"]}
    assert _ids(world, "A", "/Immunization") == mine
    assert _ids(world, "B", "/Immunization") == {world.imm["b"]}
    assert _ids(world, "A", "/Patient") == {world.a["patient"], world.family}
    assert _ids(world, "A", f"/Immunization?patient={world.b['patient']}") == set()
    assert _ids(world, "A", "/Immunization?patient.name=Beta") == set()
    assert _ids(world, "A", "/Patient?_has:Immunization:patient:lot-number=LOT-b") == set()
    included = _ids(world, "A", f"/Patient?_id={world.a['patient']}"
                                "&_revinclude=Immunization:patient")
    assert included == {world.a["patient"], world.imm["a"]}
    assert _ids(world, "A", f"/Immunization?_id={world.imm['b']}") == set()
    assert world.imm["b"] in _ids(world, "system", "/Immunization")
    assert _status(world, "analyst", "GET", "/Immunization") == 403
    assert _status(world, "anonymous", "GET", "/Immunization") == 401


def test_writes(world: World) -> None:
    a, b = world.a["patient"], world.b["patient"]
    assert _status(world, "A", "POST", "/AdverseEvent", _reaction(a)) == 201
    assert _status(world, "A", "POST", "/AdverseEvent", _reaction(world.family)) == 201
    assert _status(world, "A", "POST", "/AdverseEvent", _reaction(b)) == 403
    assert _status(world, "A", "POST", "/Immunization", _immunization(a, "FAKE")) == 403
    assert _status(world, "A", "PUT", f"/AdverseEvent/{world.reaction_b}",
                   {**_reaction(a), "id": world.reaction_b}) == 404
    assert _status(world, "A", "DELETE", f"/AdverseEvent/{world.reaction_b}") == 404
    assert _status(world, "A", "PATCH", f"/Patient/{b}") in (404, 415)
    assert _status(world, "system", "POST", "/AdverseEvent", _reaction(b)) == 403  # read-only
    assert _status(world, "practitioner", "POST", "/Immunization",
                   _immunization(b, "SITE-1")) == 201
    assert _status(world, "analyst", "POST", "/Organization",
                   {"resourceType": "Organization", "name": "x"}) == 403
    assert _status(world, "anonymous", "POST", "/AdverseEvent", _reaction(a)) == 401
    moved = {**_reaction(a), "id": "moved"}
    assert _status(world, "A", "PUT", "/AdverseEvent/moved", moved) == 201
    assert _status(world, "A", "PUT", "/AdverseEvent/moved", {**moved, "subject": {
        "reference": f"Patient/{b}"}}) == 403  # cannot move a record out of the compartment


def test_health_cards_only_for_own_and_family(world: World) -> None:
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "credentialType", "valueUri": "https://smarthealth.cards#immunization"}]}
    issue = f"/Patient/{world.b['patient']}/$health-cards-issue"
    assert _status(world, "A", "POST", issue, body) == 404
    assert _status(world, "anonymous", "POST", issue, body) == 401
    assert _status(world, "B", "POST", issue, body) == 200
    own = world.app.test_client().post(
        f"/Patient/{world.family}/$health-cards-issue", json=body,
        headers=world.tokens["A"])
    assert own.status_code == 200
    card = own.headers["Link"].split(">")[0].lstrip("<").removeprefix(BASE_URL)
    assert _status(world, "A", "GET", card) == 200
    assert _status(world, "B", "GET", card) == 404
    assert _status(world, "anonymous", "POST", "/$verify-health-card") == 400  # public, empty


def test_other_interactions(world: World) -> None:
    b = world.b["patient"]
    assert _status(world, "A", "GET", f"/Immunization/{world.imm['b']}/_history/1") == 404
    assert _status(world, "B", "GET", f"/Immunization/{world.imm['b']}/_history/1") == 200
    posted = world.app.test_client().post(
        "/Immunization/_search", data={"lot-number": "LOT-b"},
        headers=world.tokens["A"])
    assert posted.status_code == 200 and posted.get_json().get("entry", []) == []
    compartment = world.app.test_client().get(f"/Patient/{b}/Immunization",
                                              headers=world.tokens["A"])
    assert compartment.status_code in (200, 404)
    assert compartment.status_code == 404 or not compartment.get_json().get("entry")
    conditional = _status(world, "A", "PUT", f"/AdverseEvent?_id={world.reaction_b}",
                          {**_reaction(b)})
    assert conditional == 403  # no visible match, and creating one for B is forbidden
    assert _status(world, "A", "DELETE", f"/AdverseEvent?_id={world.reaction_b}") == 404
    validate = "/Patient/$validate"
    assert _status(world, "anonymous", "POST", validate, {"resourceType": "Patient"}) == 401
    assert _status(world, "A", "POST", validate, {"resourceType": "Patient"}) == 200
    assert _status(world, "A", "GET", "/_history") == 403
    assert _status(world, "admin", "GET", "/_history") == 200
    system_search = world.app.test_client().get("/?_type=Immunization,Patient",
                                                headers=world.tokens["A"])
    assert system_search.status_code == 200
    seen = {e["resource"]["id"] for e in system_search.get_json().get("entry", [])}
    assert seen and not seen & {b, world.imm["b"]}


def test_everything_stays_in_the_compartment(world: World) -> None:
    own = _ids(world, "A", f"/Patient/{world.a['patient']}/$everything")
    assert {world.a["patient"], world.imm["a"]} <= own
    family = _ids(world, "A", f"/Patient/{world.family}/$everything")
    assert {world.family, world.imm["f"]} <= family
    foreign = {world.b["patient"], world.imm["b"], world.reaction_b}
    assert not (own | family) & foreign and world.imm["f"] not in own
    assert _status(world, "A", "GET", f"/Patient/{world.b['patient']}/$everything") == 404
    everything_b = _ids(world, "system", f"/Patient/{world.b['patient']}/$everything")
    assert {world.b["patient"], world.imm["b"], world.reaction_b} <= everything_b


def test_backend_services_client_credentials(world: World) -> None:
    key = jwk.JWK.generate(kty="EC", crv="P-256", kid="site-key-1")
    service = world.app.extensions["fhir"].components["auth"]
    client_id = f"site-{uuid.uuid4().hex[:8]}"
    service.clients.register(client_id, "Vaccination site", {"keys": [
        json.loads(key.export_public())]}, "system/*.read system/Immunization.write")
    token_url = f"{BASE_URL}/auth/token"

    def assertion(**overrides: Any) -> str:
        claims = {"iss": client_id, "sub": client_id, "aud": token_url,
                  "exp": int(time.time()) + 240, "jti": uuid.uuid4().hex, **overrides}
        signed = jwt.JWT(header={"alg": "ES256", "kid": "site-key-1"}, claims=claims)
        signed.make_signed_token(key)
        return str(signed.serialize())

    web = world.app.test_client()
    form = {"grant_type": "client_credentials", "scope": "system/Immunization.write",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
    good = assertion()
    answer = web.post("/auth/token", data={**form, "client_assertion": good})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["scope"] == "system/Immunization.write"
    token = answer.get_json()["access_token"]
    created = web.post("/Immunization", json=_immunization(world.b["patient"], "SITE-2"),
                       headers=bearer(token))
    assert created.status_code == 201
    assert web.get(f"/Patient/{world.b['patient']}", headers=bearer(token)).status_code == 403
    assert web.post("/auth/token", data={**form, "client_assertion": good}
                    ).status_code == 401  # jti replay
    for bad in (assertion(aud="https://elsewhere/token"), assertion(exp=int(time.time()) + 3600),
                assertion(iss="someone-else"), good[:-4] + "AAAA"):
        assert web.post("/auth/token", data={**form, "client_assertion": bad}
                        ).status_code == 401
    too_much = web.post("/auth/token", data={**form, "scope": "system/Patient.write",
                                             "client_assertion": assertion()})
    assert too_much.status_code == 400


def test_audit_events_recorded(world: World) -> None:
    web = world.app.test_client()
    web.get(f"/Patient/{world.a['patient']}", headers=world.tokens["A"])
    web.get(f"/Immunization/{world.imm['b']}", headers=world.tokens["A"])  # denied: 404
    world.app.extensions["fhir"].components["auth"].audit.flush()
    bundle = web.get(f"/AuditEvent?entity=Patient/{world.a['patient']}&_count=100",
                     headers=world.tokens["admin"]).get_json()
    events = [e["resource"] for e in bundle.get("entry", [])]
    assert any(e["subtype"][0]["code"] == "read" and e["outcome"] == "0"
               and e["agent"][0]["who"] == {"reference": f"Patient/{world.a['patient']}"}
               for e in events)
    all_events = web.get("/AuditEvent?_count=500", headers=world.tokens["admin"]).get_json()
    denied = [e["resource"] for e in all_events.get("entry", [])
              if e["resource"].get("entity", [{}])[0].get("what", {}).get("reference")
              == f"Immunization/{world.imm['b']}"
              and e["resource"]["agent"][0]["who"].get("reference")
              == f"Patient/{world.a['patient']}"]
    assert denied and denied[0]["outcome"] == "4"
    assert denied[0]["agent"][0]["network"]["address"]


def test_analysts_see_no_resource_naming_a_patient(world: World) -> None:
    # compartmentdefinition-patient (MeasureReport.subject, Schedule.actor): an analyst reads
    # aggregate reports and reference data, never a resource about a named citizen
    svc = world.app.extensions["fhir"].internal()
    with acting_as(INTERNAL_PRINCIPAL):
        report = {"resourceType": "MeasureReport", "status": "complete", "type": "individual",
                  "measure": "http://example.org/Measure/doses", "period": {"start": "2021"}}
        individual = crud.create(svc, "MeasureReport", {
            **report, "subject": {"reference": f"Patient/{world.b['patient']}"}}).version.id
        aggregate = crud.create(svc, "MeasureReport", {**report, "type": "summary"}).version.id
        schedule = crud.create(svc, "Schedule", {
            "resourceType": "Schedule", "actor": [{"reference": f"Patient/{world.b['patient']}"}]
        }).version.id
    assert _status(world, "analyst", "GET", f"/MeasureReport/{individual}") == 404
    assert _status(world, "analyst", "GET", f"/MeasureReport/{aggregate}") == 200
    assert _status(world, "analyst", "GET", f"/Schedule/{schedule}") == 404
    assert _status(world, "admin", "GET", f"/MeasureReport/{individual}") == 200
    web = world.app.test_client()
    found = web.get("/MeasureReport?_count=500", headers=world.tokens["analyst"]).get_json()
    ids = {e["resource"]["id"] for e in found.get("entry", []) if e["search"]["mode"] == "match"}
    assert aggregate in ids and individual not in ids and found["total"] == len(ids)


def test_a_schedule_naming_a_patient_is_audited(world: World) -> None:
    # security.html#audit: a Schedule whose actor is a Patient is personal data
    svc = world.app.extensions["fhir"].internal()
    with acting_as(INTERNAL_PRINCIPAL):
        schedule = crud.create(svc, "Schedule", {
            "resourceType": "Schedule", "actor": [{"reference": f"Patient/{world.a['patient']}"}]
        }).version.id
    web = world.app.test_client()
    assert web.get(f"/Schedule/{schedule}", headers=world.tokens["A"]).status_code == 200
    world.app.extensions["fhir"].components["auth"].audit.flush()
    events = web.get(f"/AuditEvent?entity=Schedule/{schedule}",
                     headers=world.tokens["admin"]).get_json()
    assert events.get("total", len(events.get("entry", []))) >= 1
