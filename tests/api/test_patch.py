"""PATCH with JSON Patch (FHIR R4 http.html#patch, RFC 6902)."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.api.helpers import created_id, issue, patient, post

JSON_PATCH = "application/json-patch+json"


def _patch(client: FlaskClient, url: str, ops: object, **headers: str) -> object:
    return client.patch(url, json=ops, headers={"Content-Type": JSON_PATCH, **headers})


# http.html#patch: the patch applies to the current version and makes a new one
def test_json_patch(client: FlaskClient) -> None:
    the_id = created_id(post(client, patient()))
    response = client.patch(f"/Patient/{the_id}", json=[
        {"op": "replace", "path": "/gender", "value": "female"},
        {"op": "add", "path": "/name/0/given/-", "value": "Thị"}],
        headers={"Content-Type": JSON_PATCH, "If-Match": 'W/"1"'})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["gender"] == "female" and body["name"][0]["given"][-1] == "Thị"
    assert response.headers["ETag"] == 'W/"2"'


# a patch whose result is invalid FHIR is rejected and changes nothing
def test_patch_result_validated(client: FlaskClient) -> None:
    the_id = created_id(post(client, patient()))
    bad = client.patch(f"/Patient/{the_id}", json=[
        {"op": "replace", "path": "/birthDate", "value": "12/03/1985"}],
        headers={"Content-Type": JSON_PATCH})
    assert bad.status_code == 400
    assert issue(bad)["expression"] == ["Patient.birthDate"]
    assert client.get(f"/Patient/{the_id}").headers["ETag"] == 'W/"1"'


# errors: wrong content type (415), failing test op (422), id change (422), stale If-Match (412)
def test_patch_errors(client: FlaskClient) -> None:
    the_id = created_id(post(client, patient()))
    url = f"/Patient/{the_id}"
    wrong_type = client.patch(url, json=[], headers={"Content-Type": "application/fhir+json"})
    assert wrong_type.status_code == 415
    failing = client.patch(url, json=[{"op": "test", "path": "/gender", "value": "female"}],
                           headers={"Content-Type": JSON_PATCH})
    assert failing.status_code == 422
    id_change = client.patch(url, json=[{"op": "replace", "path": "/id", "value": "x"}],
                             headers={"Content-Type": JSON_PATCH})
    assert id_change.status_code == 422
    stale = client.patch(url, json=[{"op": "replace", "path": "/gender", "value": "other"}],
                         headers={"Content-Type": JSON_PATCH, "If-Match": 'W/"9"'})
    assert stale.status_code == 412
    not_a_list = client.patch(url, json={"op": "add"}, headers={"Content-Type": JSON_PATCH})
    assert not_a_list.status_code == 400
    assert client.get(url).headers["ETag"] == 'W/"1"'
