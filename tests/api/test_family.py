"""The citizen's family (issue 14 point 2): add with the identifier checks, list, update,
unlink; the relationship stored from the right side (R4 relatedperson.html: "the nature of
the relationship between a patient and the related person"); one request schema (unknown
fields -> 400)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from fhir_server.auth.family import relationship_codes
from tests.api.auth_helpers import bearer, register

FHIR = {"Content-Type": "application/fhir+json"}


@pytest.fixture(scope="module")
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(auth_required=True)


def _holder(app: Flask) -> dict[str, Any]:
    return register(app, app.test_client(), "Đặng Thị Hương", gender="female",
                    birthDate="1988-02-03")


def _add(app: Flask, token: str, **body: Any) -> Any:
    return app.test_client().post("/auth/family", headers=bearer(token), json={
        "full_name": "Đặng Minh Khang", "relationship": "SON", "gender": "male",
        "birthDate": "2012-06-07", **body})


def test_add_list_update_unlink(app: Flask) -> None:
    web = app.test_client()
    holder = _holder(app)
    added = _add(app, holder["access_token"], bhyt="HS4010123456789")
    assert added.status_code == 201, added.get_json()
    member, token = added.get_json()["member"], added.get_json()["access_token"]
    related = web.get(f"/RelatedPerson/{added.get_json()['relatedPerson']}",
                      headers=bearer(token)).get_json()
    assert related["relationship"][0]["coding"][0]["code"] == "MTH"  # she is his mother
    assert related["patient"]["reference"] == f"Patient/{member}"
    listing = web.get("/auth/family", headers=bearer(token)).get_json()["members"]
    son = relationship_codes()["SON"][1]  # the value set's Vietnamese designation
    assert [(m["patient"], m["relationship"], m["relationshipDisplay"]) for m in listing] == [
        (member, "SON", son)]
    assert listing[0]["birthDate"] == "2012-06-07"
    changed = web.patch(f"/auth/family/{member}", headers=bearer(token),
                        json={"full_name": "Đặng Minh Khôi", "relationship": "CHILD"})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["name"] == "Đặng Minh Khôi"
    assert changed.get_json()["relationship"] == "SON"  # CHILD of a boy reads back as SON
    patient = web.get(f"/Patient/{member}", headers=bearer(token)).get_json()
    assert patient["name"][0]["text"] == "Đặng Minh Khôi"
    assert patient["identifier"] == [{"system": "urn:vn:bhyt", "value": "HS4010123456789"}]
    unlinked = web.delete(f"/auth/family/{member}", headers=bearer(token))
    assert unlinked.status_code == 200
    fresh = bearer(unlinked.get_json()["access_token"])
    after = web.get("/auth/family", headers=fresh).get_json()
    assert after["family"] == [] and after["members"] == []
    assert web.get(f"/Patient/{member}", headers=fresh).status_code == 404  # not hers now
    old = web.get(f"/RelatedPerson/{related['id']}",
                  headers=bearer(app.extensions["fhir"].components["auth"].token_for(
                      "system/*.read", 60))).get_json()
    assert old["active"] is False  # the link ended; the records stay


def test_bad_member_requests_change_nothing(app: Flask) -> None:
    web = app.test_client()
    holder = _holder(app)
    token = holder["access_token"]
    unknown = _add(app, token, birth_date="2012-06-07")
    assert unknown.status_code == 400
    assert unknown.get_json()["issue"][0]["expression"] == ["birth_date"]
    bad_id = _add(app, token, cccd="12345")
    assert bad_id.status_code == 422
    assert bad_id.get_json()["issue"][0]["expression"] == ["cccd"]
    wrong = _add(app, token, relationship="BOSS")
    assert wrong.status_code == 400
    assert wrong.get_json()["issue"][0]["expression"] == ["relationship"]
    first = _add(app, token)
    assert first.status_code == 201
    token = first.get_json()["access_token"]
    twice = _add(app, token)
    assert twice.status_code == 409  # the same child twice
    listing = web.get("/auth/family", headers=bearer(token)).get_json()
    assert len(listing["family"]) == 1
    stranger = register(app, web, "Người Lạ")
    foreign = web.patch(f"/auth/family/{first.get_json()['member']}",
                        headers=bearer(stranger["access_token"]), json={"full_name": "X Y"})
    assert foreign.status_code == 404
    gone = web.delete(f"/auth/family/{stranger['patient']}", headers=bearer(token))
    assert gone.status_code == 404


def test_the_citizen_completes_their_own_record(app: Flask) -> None:
    """Issue 14 point 2: birth date, gender and identifiers completed through /auth/profile;
    once complete the record claims the VN Patient profile (checked on every later write)."""
    web = app.test_client()
    holder = register(app, web, "Phan Văn Đủ")
    token = bearer(holder["access_token"])
    before = web.get("/auth/profile", headers=token).get_json()
    assert before["complete"] is False and set(before["missing"]) >= {"identifier", "gender"}
    bad = web.patch("/auth/profile", headers=token, json={"cccd": "001090001234",
                                                           "gender": "female",
                                                           "birthDate": "1990-01-01"})
    assert bad.status_code == 422  # digit 4 = 0 is a man born in the 1900s
    assert "cccd" in bad.get_json()["issue"][0]["expression"]
    odd = web.patch("/auth/profile", headers=token, json={"birth_date": "1990-01-01"})
    assert odd.status_code == 400 and odd.get_json()["issue"][0]["expression"] == ["birth_date"]
    done = web.patch("/auth/profile", headers=token, json={
        "cccd": "001090001234", "gender": "male", "birthDate": "1990-01-01",
        "bhyt": "DN4010123456789"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["complete"] is True and done.get_json()["profile"] is True
    stored = web.get(f"/Patient/{holder['patient']}", headers=token).get_json()
    assert "https://fhir.moh.gov.vn/fhir/StructureDefinition/vn-patient" in \
        stored["meta"]["profile"]
    stripped = {k: v for k, v in stored.items() if k != "gender"}
    refused = web.put(f"/Patient/{holder['patient']}", headers={**FHIR, **token}, json=stripped)
    assert refused.status_code == 422  # the claimed profile requires gender
