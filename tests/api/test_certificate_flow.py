"""The certificate (Chứng nhận tiêm chủng) over HTTP as the app walks it (issue 14 point 6).

SMART Health Cards IG "FHIR API": POST Patient/[id]/$health-cards-issue answers Parameters with
one verifiableCredential per card (plus resourceLink); our extra `healthCard` parameters carry
the QR PNG URL, the `shc:/` text and the .smart-health-card download URL in the body.
"Revocation": a voided dose puts the rid of every card that carried it on the key's CRL at
/.well-known/crl/<kid>.json, and $verify-health-card then says `revoked`; cards that did not
carry it stay valid. "Determining keys associated with an issuer": iss uses https, so a plain
http server issues in a labelled development mode.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from fhir_server.health_cards.issue import decode_card
from tests.api.test_auth_matrix import World
from tests.conftest import BASE_URL

FHIR = {"Content-Type": "application/fhir+json"}
CREDENTIAL = {"resourceType": "Parameters", "parameter": [
    {"name": "credentialType", "valueUri": "https://smarthealth.cards#health-card"}]}


@pytest.fixture(scope="module")
def world(make_app: Callable[..., Flask]) -> World:
    return World(make_app(auth_required=True), verified=True)


def _call(world: World, actor: str, method: str, url: str, body: Any = None) -> Any:
    return world.app.test_client().open(url, method=method, json=body,
                                        headers={**FHIR, **world.tokens[actor]})


def _card(world: World, actor: str, patient_id: str) -> dict[str, Any]:
    """The app's one call: the card of self or a family member, with its URLs in the body."""
    response = _call(world, actor, "POST", f"/Patient/{patient_id}/$health-cards-issue",
                     CREDENTIAL)
    assert response.status_code == 200, response.get_json()
    parameters = response.get_json()["parameter"]
    (jws,) = [p["valueString"] for p in parameters if p["name"] == "verifiableCredential"]
    (card,) = [{part["name"]: next(v for k, v in part.items() if k.startswith("value"))
                for part in p["part"]} for p in parameters if p["name"] == "healthCard"]
    return {"jws": jws, **card, "parameters": parameters}


def _path(url: str) -> str:
    assert url.startswith(BASE_URL)
    return url.removeprefix(BASE_URL)


def _verdict(world: World, jws: str) -> tuple[str, list[str]]:
    response = world.app.test_client().post("/$verify-health-card", data=jws,
                                            headers={"Content-Type": "text/plain"})
    assert response.status_code == 200
    parameters = response.get_json()["parameter"]
    return (next(p["valueCode"] for p in parameters if p["name"] == "verdict"),
            [p["valueString"] for p in parameters if p["name"] == "reason"])


def _crl_rids(world: World, jws: str) -> list[str]:
    header, _ = decode_card(jws)
    crl = world.app.test_client().get(f"/.well-known/crl/{header['kid']}.json").get_json()
    return [entry.split(".")[0] for entry in crl["rids"]]


def _rid(jws: str) -> str:
    return str(decode_card(jws)[1]["vc"]["rid"])


def _dose(world: World, patient_id: str, date: str) -> str:
    response = _call(world, "practitioner", "POST", "/Immunization", {
        "resourceType": "Immunization", "status": "completed",
        "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "208"}]},
        "patient": {"reference": f"Patient/{patient_id}"}, "occurrenceDateTime": date,
        "lotNumber": f"LOT-{date}", "location": {"display": "Trạm y tế"},
        "performer": [{"actor": {"display": "ĐD. Hà"}}],
        "protocolApplied": [{"doseNumberPositiveInt": 2}]})
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def _void(world: World, actor: str, immunization_id: str) -> Any:
    current = _call(world, "admin", "GET", f"/Immunization/{immunization_id}").get_json()
    return _call(world, actor, "PUT", f"/Immunization/{immunization_id}",
                 {**current, "status": "entered-in-error"})


def _doses(jws: str) -> int:
    bundle = decode_card(jws)[1]["vc"]["credentialSubject"]["fhirBundle"]
    return sum(e["resource"]["resourceType"] == "Immunization" for e in bundle["entry"])


# one call returns the card in the body: QR PNG URL, shc:/ text, .smart-health-card URL; each
# URL serves what it says; the name stays as written (Vietnamese order)
def test_the_card_for_self_carries_its_urls_in_the_body(world: World) -> None:
    card = _card(world, "A", world.a["patient"])
    assert card["shc"].startswith("shc:/") and card["issuerMode"] == "production"
    assert card["issuer"] == BASE_URL and card["doses"] == 1
    web = world.app.test_client()
    png = web.get(_path(card["qrPng"]), headers=world.tokens["A"])
    assert png.status_code == 200 and png.headers["Content-Type"] == "image/png"
    text = web.get(_path(card["shcText"]), headers=world.tokens["A"])
    assert text.get_data(as_text=True) == card["shc"]
    download = web.get(_path(card["download"]), headers=world.tokens["A"])
    assert download.headers["Content-Type"] == "application/smart-health-card"
    assert json.loads(download.data) == {"verifiableCredential": [card["jws"]]}
    assert web.get(_path(card["qrPng"]), headers=world.tokens["B"]).status_code == 404
    assert not [p for p in card["parameters"] if p["name"] == "outcome"]  # https: no warning
    person = decode_card(card["jws"])[1]["vc"]["credentialSubject"]["fhirBundle"]["entry"][0]
    assert person["resource"]["name"][0]["text"] == "Phạm Văn Alpha"
    response = web.post("/$verify-health-card", data=card["jws"],
                        headers={"Content-Type": "text/plain"})
    subject = next(p for p in response.get_json()["parameter"] if p["name"] == "subject")
    assert subject["part"][0]["valueString"] == "Phạm Văn Alpha"


# a linked family member's card comes from the same call, with the member's own name
def test_the_card_for_a_family_member(world: World) -> None:
    card = _card(world, "A", world.family)
    person = decode_card(card["jws"])[1]["vc"]["credentialSubject"]["fhirBundle"]["entry"][0]
    assert person["resource"]["name"][0]["text"] == "Phạm Thị Family"
    assert _verdict(world, card["jws"])[0] == "valid"


# a new dose reissues (the next call carries every current dose; the old card stays valid);
# voiding a dose revokes exactly the cards that carried it (CRL, $verify-health-card, 410 on
# download); deleting a dose does the same
def test_new_dose_reissues_and_a_voided_dose_revokes_its_cards(world: World) -> None:
    patient = world.b["patient"]
    first = _card(world, "B", patient)
    assert first["doses"] == 1
    second_dose = _dose(world, patient, "2021-10-10")
    second = _card(world, "B", patient)
    assert second["doses"] == 2 == _doses(second["jws"])
    assert _rid(first["jws"]) != _rid(second["jws"])
    assert _verdict(world, first["jws"])[0] == _verdict(world, second["jws"])[0] == "valid"

    assert _void(world, "practitioner", second_dose).status_code == 200
    verdict, reasons = _verdict(world, second["jws"])
    assert verdict == "revoked" and any(_rid(second["jws"]) in r for r in reasons)
    assert _rid(second["jws"]) in _crl_rids(world, second["jws"])
    assert _verdict(world, first["jws"])[0] == "valid"  # it never carried the voided dose
    assert _rid(first["jws"]) not in _crl_rids(world, first["jws"])
    gone = world.app.test_client().get(_path(second["qrPng"]), headers=world.tokens["B"])
    assert gone.status_code == 410 and "revoked" in gone.get_json()["issue"][0]["diagnostics"]

    third = _card(world, "B", patient)  # the doses that remain
    assert third["doses"] == 1 and _verdict(world, third["jws"])[0] == "valid"
    deleted = _call(world, "admin", "DELETE", f"/Immunization/{world.imm['b']}")
    assert deleted.status_code in (200, 204)
    assert _verdict(world, first["jws"])[0] == "revoked"
    assert _verdict(world, third["jws"])[0] == "revoked"
    no_dose = _call(world, "B", "POST", f"/Patient/{patient}/$health-cards-issue", CREDENTIAL)
    assert no_dose.status_code == 422  # nothing left to certify


# bad input: someone else's Patient is 404 (ids not discoverable); a citizen cannot void a dose
# (somebody else's or their own: citizens do not write Immunization, 403) and the card stays
# valid; no credentialType: 400
def test_bad_input_changes_nothing(world: World) -> None:
    card = _card(world, "A", world.a["patient"])
    other = _call(world, "A", "POST", f"/Patient/{world.b['patient']}/$health-cards-issue",
                  CREDENTIAL)
    assert other.status_code == 404 and other.get_json()["resourceType"] == "OperationOutcome"
    assert _void(world, "B", world.imm["a"]).status_code in (403, 404)
    own = _void(world, "A", world.imm["a"])
    assert own.status_code == 403 and own.get_json()["resourceType"] == "OperationOutcome"
    stored = _call(world, "admin", "GET", f"/Immunization/{world.imm['a']}").get_json()
    assert stored["status"] == "completed"
    assert _verdict(world, card["jws"])[0] == "valid"
    missing = _call(world, "A", "POST", f"/Patient/{world.a['patient']}/$health-cards-issue",
                    {"resourceType": "Parameters"})
    assert missing.status_code == 400


# development mode (`make run`: plain http base URL): issuing works, labelled; never a 500
def test_development_mode_issues_labelled_cards(make_app: Callable[..., Flask]) -> None:
    app = make_app(base_url="http://127.0.0.1:8080", auth_required=True)
    world = World(app, verified=True)
    response = _call(world, "A", "POST", f"/Patient/{world.a['patient']}/$health-cards-issue",
                     CREDENTIAL)
    assert response.status_code == 200, response.get_json()
    parameters = response.get_json()["parameter"]
    (outcome,) = [p["resource"] for p in parameters if p["name"] == "outcome"]
    assert outcome["issue"][0]["severity"] == "warning"
    assert "Development mode" in outcome["issue"][0]["diagnostics"]
    card = next(p for p in parameters if p["name"] == "healthCard")
    parts = {part["name"]: part for part in card["part"]}
    assert parts["issuerMode"]["valueCode"] == "development"
    assert parts["qrPng"]["valueUrl"].startswith("http://127.0.0.1:8080/health-cards/")
    jws = parameters[0]["valueString"]
    assert decode_card(jws)[1]["iss"] == "http://127.0.0.1:8080"
    verified = app.test_client().post("/$verify-health-card", data=jws,
                                      headers={"Content-Type": "text/plain"}).get_json()
    values = {p["name"]: p.get("valueCode") or p.get("valueString")
              for p in verified["parameter"]}
    assert values["verdict"] == "valid"
    assert any(p["name"] == "warning" and "development issuer" in p["valueString"]
               for p in verified["parameter"])


# a standalone MongoDB (FHIR_USE_TRANSACTIONS=0): voiding a dose on a card still revokes the
# card (just before the write, no transaction to join) and answers 200, never 501/500
def test_void_without_transactions(make_app: Callable[..., Flask]) -> None:
    world = World(make_app(auth_required=True, use_transactions=False), verified=True)
    card = _card(world, "A", world.a["patient"])
    never_carded = _void(world, "practitioner", world.imm["f"])  # on no card: as before
    assert never_carded.status_code == 200, never_carded.get_json()
    assert _verdict(world, card["jws"])[0] == "valid"
    voided = _void(world, "practitioner", world.imm["a"])
    assert voided.status_code == 200, voided.get_json()
    assert _verdict(world, card["jws"])[0] == "revoked"


# any door: a transaction bundle that voids one dose (PUT) and deletes another revokes the
# cards that carried them
def test_a_bundle_voiding_doses_revokes_their_cards(world: World) -> None:
    first = _dose(world, world.family, "2021-11-01")
    second = _dose(world, world.family, "2021-12-01")
    card = _card(world, "A", world.family)
    current = _call(world, "admin", "GET", f"/Immunization/{first}").get_json()
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": {**current, "status": "entered-in-error"},
         "request": {"method": "PUT", "url": f"Immunization/{first}"}},
        {"request": {"method": "DELETE", "url": f"Immunization/{second}"}}]}
    response = _call(world, "practitioner", "POST", "/", bundle)
    assert response.status_code == 200, response.get_json()
    assert _verdict(world, card["jws"])[0] == "revoked"
    assert _card(world, "A", world.family)["doses"] == 1  # the family member's first dose
