"""Health-card identity over HTTP (issue 12, point 9 "Health-card identity"): a site nurse
verifies the Patient's identity; the citizen cannot change verified name/birthDate/identifier
nor forge the verification; cards are issued only from verified identity data."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from fhir_server.health_cards.identity import VERIFICATION_URL, is_verified, mark_verified
from fhir_server.health_cards.issue import decode_card
from fhir_server.health_cards.minimise import bundle_resources
from tests.api.test_auth_matrix import World

FHIR = {"Content-Type": "application/fhir+json"}
CREDENTIAL = {"resourceType": "Parameters", "parameter": [
    {"name": "credentialType", "valueUri": "https://smarthealth.cards#immunization"}]}


@pytest.fixture(scope="module")
def world(make_app: Callable[..., Flask]) -> World:
    return World(make_app(auth_required=True))


def _call(world: World, actor: str, method: str, url: str, body: Any = None) -> Any:
    web = world.app.test_client()
    return web.open(url, method=method, json=body, headers={**FHIR, **world.tokens[actor]})


def _verify(world: World, actor: str, patient_id: str) -> Any:
    return _call(world, actor, "POST", f"/Patient/{patient_id}/$verify-identity",
                 {"resourceType": "Parameters", "parameter": [
                     {"name": "site", "valueReference": {"reference": "Location/site-1"}}]})


def _patient(world: World, who: str) -> dict[str, Any]:
    return _call(world, "admin", "GET", f"/Patient/{world.b['patient'] if who == 'B' else who}"
                 ).get_json()


def _issue(world: World, actor: str, patient_id: str) -> Any:
    return _call(world, actor, "POST", f"/Patient/{patient_id}/$health-cards-issue",
                 CREDENTIAL)


def test_unverified_patient_gets_no_card(world: World) -> None:
    response = _issue(world, "A", world.a["patient"])
    assert response.status_code == 422
    issue = response.get_json()["issue"][0]
    assert "verified at a vaccination site" in issue["diagnostics"]
    assert issue["expression"][0].startswith("Patient.extension(")


def test_nurse_verifies_and_the_card_carries_the_verified_identity(world: World) -> None:
    assert _verify(world, "A", world.a["patient"]).status_code == 403  # citizens cannot
    assert _verify(world, "analyst", world.a["patient"]).status_code == 403
    response = _verify(world, "practitioner", world.a["patient"])
    assert response.status_code == 200, response.get_json()
    stored = _patient(world, world.a["patient"])
    assert is_verified(stored)
    verifier = {e["url"]: e for e in next(x for x in stored["extension"]
                                          if x["url"] == VERIFICATION_URL)["extension"]}
    assert verifier["verifier"]["valueString"].startswith("staff/")
    assert verifier["site"]["valueReference"] == {"reference": "Location/site-1"}
    card = _issue(world, "A", world.a["patient"])
    assert card.status_code == 200, card.get_json()
    _, claims = decode_card(card.get_json()["parameter"][0]["valueString"])
    person, doses = bundle_resources(claims["vc"]["credentialSubject"]["fhirBundle"])
    assert person is not None and len(doses) == 1
    assert person["name"][0]["family"] == stored["name"][0]["family"]
    assert person.get("birthDate") == stored.get("birthDate")


def test_citizen_cannot_rename_a_verified_patient(world: World) -> None:
    assert _verify(world, "practitioner", world.a["patient"]).status_code == 200
    before = _patient(world, world.a["patient"])
    renamed = copy.deepcopy(before)
    renamed["name"] = [{"use": "official", "family": "Trần", "given": ["Giả", "Mạo"]}]
    renamed["birthDate"] = "1970-01-01"
    response = _call(world, "A", "PUT", f"/Patient/{before['id']}", renamed)
    assert response.status_code == 403, response.get_json()
    paths = {p for issue in response.get_json()["issue"] for p in issue.get("expression", [])}
    assert paths == {"Patient.name", "Patient.birthDate"}
    after = _patient(world, world.a["patient"])
    assert after["name"] == before["name"] and after["meta"]["versionId"] == before["meta"][
        "versionId"]
    patch = [{"op": "replace", "path": "/name/0/family", "value": "Trần"}]
    patched = world.app.test_client().patch(
        f"/Patient/{before['id']}", json=patch,
        headers={"Content-Type": "application/json-patch+json", **world.tokens["A"]})
    assert patched.status_code == 403
    assert _issue(world, "A", world.a["patient"]).status_code == 200  # still verified


def test_citizen_cannot_forge_the_verification(world: World) -> None:
    current = _patient(world, "B")
    assert not is_verified(current)
    forged = mark_verified({**current, "name": [{"family": "Lê", "given": ["Giả"]}]},
                           "staff/nobody", "2021-01-01T00:00:00Z")
    response = _call(world, "B", "PUT", f"/Patient/{current['id']}", forged)
    assert response.status_code == 403, response.get_json()
    assert response.get_json()["issue"][0]["expression"][0].startswith("Patient.extension(")
    assert not is_verified(_patient(world, "B"))
    assert _issue(world, "B", world.b["patient"]).status_code == 422
