"""Conditional create / update / delete (FHIR R4 http.html#ccreate, #cond-update, #cdelete)."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient

from tests.api.helpers import FHIR_JSON, created_id, issue, patient, post


def _mrn() -> str:
    return uuid.uuid4().hex


# http.html#ccreate: no match -> 201; one match -> 200 with the existing resource; many -> 412
def test_conditional_create(client: FlaskClient) -> None:
    mrn = _mrn()
    body = patient(identifier=[{"system": "urn:test:mrn", "value": mrn}])
    criteria = f"identifier=urn:test:mrn|{mrn}"
    first = post(client, body, **{"If-None-Exist": criteria})
    first_id = created_id(first)
    again = post(client, body, **{"If-None-Exist": criteria})
    assert again.status_code == 200
    assert again.get_json()["id"] == first_id
    assert again.headers["ETag"] == 'W/"1"'
    post(client, body)  # a plain create makes a duplicate
    many = post(client, body, **{"If-None-Exist": criteria})
    assert many.status_code == 412


# http.html#ccreate: unknown criteria parameters are an error, never ignored
def test_conditional_create_rejects_unknown_parameter(client: FlaskClient) -> None:
    response = post(client, patient(), **{"If-None-Exist": "no-such-param=1"})
    assert response.status_code == 400
    assert issue(response)["expression"] == ["no-such-param"]


# http.html#cond-update: no match -> create; one match -> update it; many -> 412
def test_conditional_update(client: FlaskClient) -> None:
    mrn = _mrn()
    body = patient(identifier=[{"system": "urn:test:mrn", "value": mrn}])
    url = f"/Patient?identifier=urn:test:mrn|{mrn}"
    created = client.put(url, json=body, headers={"Content-Type": FHIR_JSON})
    assert created.status_code == 201
    the_id = created.get_json()["id"]
    updated = client.put(url, json={**body, "gender": "female"},
                         headers={"Content-Type": FHIR_JSON})
    assert updated.status_code == 200
    assert updated.get_json()["id"] == the_id
    assert updated.headers["ETag"] == 'W/"2"'
    wrong_id = client.put(url, json={**body, "id": "not-the-match"},
                          headers={"Content-Type": FHIR_JSON})
    assert wrong_id.status_code == 400
    post(client, body)
    assert client.put(url, json=body, headers={"Content-Type": FHIR_JSON}).status_code == 412


# http.html#cond-update by _id
def test_conditional_update_by_id(client: FlaskClient) -> None:
    the_id = created_id(post(client, patient()))
    response = client.put(f"/Patient?_id={the_id}", json=patient(gender="other"),
                          headers={"Content-Type": FHIR_JSON})
    assert response.status_code == 200
    assert response.get_json()["gender"] == "other"


# http.html#cdelete: one match -> deleted; none -> 404; many -> 412 and nothing deleted
def test_conditional_delete(client: FlaskClient) -> None:
    mrn = _mrn()
    body = patient(identifier=[{"system": "urn:test:mrn", "value": mrn}])
    the_id = created_id(post(client, body))
    url = f"/Patient?identifier=urn:test:mrn|{mrn}"
    assert client.delete(url).status_code == 200
    assert client.get(f"/Patient/{the_id}").status_code == 410
    assert client.delete(url).status_code == 404
    first, second = created_id(post(client, body)), created_id(post(client, body))
    assert client.delete(url).status_code == 412
    assert client.get(f"/Patient/{first}").status_code == 200
    assert client.get(f"/Patient/{second}").status_code == 200
    assert client.delete("/Patient").status_code == 405  # no criteria: not a type interaction


# values are data, never operators: a JSON-looking criterion matches nothing
def test_criteria_values_are_data(client: FlaskClient) -> None:
    post(client, patient())
    response = client.put('/Patient?identifier={"$ne":null}', json=patient(),
                          headers={"Content-Type": FHIR_JSON})
    assert response.status_code == 201  # matched nothing, so it created
