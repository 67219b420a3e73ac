"""read, vread, create, update, delete over HTTP (FHIR R4 http.html#read .. #delete)."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient

from tests.api.helpers import FHIR_JSON, created_id, issue, patient, post, put


# http.html#create: 201, Location with the version, ETag, Last-Modified, server-assigned id
def test_create_assigns_id_and_version_headers(client: FlaskClient) -> None:
    body = patient(id="client-chosen-ignored")
    response = post(client, body)
    new_id = created_id(response)
    assert new_id != "client-chosen-ignored"
    assert response.headers["ETag"] == 'W/"1"'
    assert response.headers["Location"].endswith(f"/Patient/{new_id}/_history/1")
    assert response.headers["Last-Modified"].endswith("GMT")
    assert response.headers["Content-Type"].startswith(FHIR_JSON)
    stored = response.get_json()
    assert stored["meta"]["versionId"] == "1"
    assert stored["name"] == body["name"]


# http.html#read: the current version with ETag; HEAD gives the same headers and no body
def test_read_and_head(client: FlaskClient) -> None:
    new_id = created_id(post(client, patient()))
    response = client.get(f"/Patient/{new_id}")
    assert response.status_code == 200
    assert response.get_json()["id"] == new_id
    assert response.headers["ETag"] == 'W/"1"'
    head = client.head(f"/Patient/{new_id}")
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["ETag"] == 'W/"1"'


# http.html#read: unknown id -> 404; bad id syntax -> 400; unknown type -> 404
def test_read_errors(client: FlaskClient) -> None:
    assert issue(client.get(f"/Patient/{uuid.uuid4()}"))["code"] == "not-found"
    bad = client.get("/Patient/" + "x" * 65)
    assert bad.status_code == 400 and issue(bad)["expression"] == ["id"]
    unknown = client.get("/Spaceship/1")
    assert unknown.status_code == 404 and "Spaceship" in issue(unknown)["diagnostics"]


# http.html#cread: If-None-Match / If-Modified-Since give 304 Not Modified
def test_conditional_read(client: FlaskClient) -> None:
    response = post(client, patient())
    new_id = created_id(response)
    assert client.get(f"/Patient/{new_id}", headers={"If-None-Match": 'W/"1"'}).status_code == 304
    assert client.get(f"/Patient/{new_id}", headers={"If-None-Match": 'W/"7"'}).status_code == 200
    later = response.headers["Last-Modified"]
    assert client.get(f"/Patient/{new_id}",
                      headers={"If-Modified-Since": later}).status_code == 304


# http.html#update: new version, ETag W/"2"; body id must match the URL id
def test_update_creates_new_version(client: FlaskClient) -> None:
    new_id = created_id(post(client, patient()))
    response = put(client, patient(id=new_id, gender="female"))
    assert response.status_code == 200
    assert response.headers["ETag"] == 'W/"2"'
    assert response.get_json()["meta"]["versionId"] == "2"
    assert client.get(f"/Patient/{new_id}").get_json()["gender"] == "female"
    mismatch = client.put(f"/Patient/{new_id}", json=patient(id="other"),
                          headers={"Content-Type": FHIR_JSON})
    assert mismatch.status_code == 400
    assert issue(mismatch)["expression"] == ["Patient.id"]
    missing = client.put(f"/Patient/{new_id}", json=patient(), headers={"Content-Type": FHIR_JSON})
    assert missing.status_code == 400


# http.html#update: update as create with a client-chosen id -> 201
def test_update_as_create(client: FlaskClient) -> None:
    client_id = f"vn-{uuid.uuid4().hex[:12]}"
    response = put(client, patient(id=client_id))
    assert response.status_code == 201
    assert response.headers["Location"].endswith(f"/Patient/{client_id}/_history/1")


# http.html#concurrency: If-Match with a stale version -> 412, the resource unchanged
def test_versioned_update(client: FlaskClient) -> None:
    new_id = created_id(post(client, patient()))
    assert put(client, patient(id=new_id), **{"If-Match": 'W/"1"'}).status_code == 200
    stale = put(client, patient(id=new_id, gender="other"), **{"If-Match": 'W/"1"'})
    assert stale.status_code == 412
    assert issue(stale)["code"] == "conflict"
    assert client.get(f"/Patient/{new_id}").get_json()["gender"] == "male"
    malformed = put(client, patient(id=new_id), **{"If-Match": "banana"})
    assert malformed.status_code == 400


# http.html#vread: each version stays readable; unknown version -> 404
def test_vread(client: FlaskClient) -> None:
    new_id = created_id(post(client, patient(gender="male")))
    put(client, patient(id=new_id, gender="female"))
    first = client.get(f"/Patient/{new_id}/_history/1")
    assert first.status_code == 200 and first.get_json()["gender"] == "male"
    assert first.headers["ETag"] == 'W/"1"'
    assert client.get(f"/Patient/{new_id}/_history/2").get_json()["gender"] == "female"
    assert client.get(f"/Patient/{new_id}/_history/3").status_code == 404
    assert client.get(f"/Patient/{new_id}/_history/abc").status_code == 404


# http.html#delete: tombstone; read -> 410 Gone; repeated delete -> 204; resurrection by PUT
def test_delete_leaves_tombstone(client: FlaskClient) -> None:
    new_id = created_id(post(client, patient()))
    deleted = client.delete(f"/Patient/{new_id}")
    assert deleted.status_code == 200
    assert deleted.get_json()["resourceType"] == "OperationOutcome"
    gone = client.get(f"/Patient/{new_id}")
    assert gone.status_code == 410 and issue(gone)["code"] == "deleted"
    assert client.get(f"/Patient/{new_id}/_history/2").status_code == 410
    assert client.get(f"/Patient/{new_id}/_history/1").status_code == 200
    assert client.delete(f"/Patient/{new_id}").status_code == 204
    assert client.delete(f"/Patient/{uuid.uuid4()}").status_code == 204  # never existed
    revived = put(client, patient(id=new_id))
    assert revived.status_code == 201
    assert revived.headers["ETag"] == 'W/"3"'


# http.html#delete with If-Match: stale version -> 412 and nothing deleted
def test_delete_if_match(client: FlaskClient) -> None:
    new_id = created_id(post(client, patient()))
    stale = client.delete(f"/Patient/{new_id}", headers={"If-Match": 'W/"5"'})
    assert stale.status_code == 412
    assert client.get(f"/Patient/{new_id}").status_code == 200
    assert client.delete(f"/Patient/{new_id}", headers={"If-Match": 'W/"1"'}).status_code == 200


# http.html#ops: Prefer return=minimal | representation | OperationOutcome
def test_prefer_return(client: FlaskClient) -> None:
    minimal = post(client, patient(), Prefer="return=minimal")
    assert minimal.status_code == 201 and minimal.data == b""
    assert "Content-Type" not in minimal.headers  # no body, so no media type (RFC 9110 §8.3)
    assert minimal.headers["Location"]
    outcome = post(client, patient(), Prefer="return=OperationOutcome")
    assert outcome.status_code == 201
    body = outcome.get_json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["severity"] == "information"
    full = post(client, patient(), Prefer="return=representation")
    assert full.get_json()["resourceType"] == "Patient"


# json.html: the stored JSON is served as validated (element order and values preserved)
def test_client_json_preserved(client: FlaskClient) -> None:
    body = patient(extension=[{"url": "http://example.org/ext", "valueDecimal": 1.25}],
                   telecom=[{"system": "phone", "value": "+84912345678", "use": "mobile"}])
    stored = post(client, body).get_json()
    read_back = client.get(f"/Patient/{stored['id']}").get_json()
    for key in ("identifier", "name", "gender", "birthDate", "extension", "telecom"):
        assert read_back[key] == body[key]
    assert list(read_back)[:3] == ["resourceType", "id", "meta"]
