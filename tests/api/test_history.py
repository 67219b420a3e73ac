"""History: instance, type and system (FHIR R4 http.html#history)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask.testing import FlaskClient

from tests.api.helpers import created_id, patient, post, put


def _follow(client: FlaskClient, url: str) -> dict:
    parts = urlsplit(url)
    path = parts.path.removeprefix("/fhir")
    return client.get(f"{path}?{parts.query}").get_json()


# http.html#history: newest first, every version incl. the delete, with request/response
def test_instance_history(client: FlaskClient) -> None:
    the_id = created_id(post(client, patient()))
    put(client, patient(id=the_id, gender="female"))
    client.delete(f"/Patient/{the_id}")
    bundle = client.get(f"/Patient/{the_id}/_history").get_json()
    assert bundle["type"] == "history" and bundle["total"] == 3
    methods = [entry["request"]["method"] for entry in bundle["entry"]]
    assert methods == ["DELETE", "PUT", "POST"]
    assert "resource" not in bundle["entry"][0]
    assert bundle["entry"][0]["response"]["etag"] == 'W/"3"'
    assert bundle["entry"][1]["resource"]["gender"] == "female"
    assert bundle["entry"][2]["response"]["status"] == "201 Created"


# http.html#history: unknown resource -> 404
def test_history_of_unknown_resource(client: FlaskClient) -> None:
    assert client.get("/Patient/never-existed-xyz/_history").status_code == 404


# http.html#history: _count and paging links; pages stay stable while new versions arrive
def test_type_history_paging(fresh_client: FlaskClient) -> None:
    ids = [created_id(post(fresh_client, patient())) for _ in range(5)]
    first = fresh_client.get("/Patient/_history?_count=2").get_json()
    assert first["total"] == 5 and len(first["entry"]) == 2
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    post(fresh_client, patient())  # a write between pages must not shift the next page
    second = _follow(fresh_client, next_url)
    seen = [e["resource"]["id"] for e in first["entry"] + second["entry"]]
    assert seen == list(reversed(ids))[:4]
    previous = next(link["url"] for link in second["link"] if link["relation"] == "previous")
    assert [e["resource"]["id"] for e in _follow(fresh_client, previous)["entry"]] == \
        [e["resource"]["id"] for e in first["entry"]]


# http.html#history: _since keeps versions after the instant; system history spans types
def test_since_and_system_history(fresh_client: FlaskClient) -> None:
    the_id = created_id(post(fresh_client, patient()))
    marker = fresh_client.get(f"/Patient/{the_id}").get_json()["meta"]["lastUpdated"]
    org = post(fresh_client, {"resourceType": "Organization", "name": "CDC Hà Nội"})
    assert org.status_code == 201
    since = fresh_client.get("/_history", query_string={"_since": marker}).get_json()
    assert [e["resource"]["resourceType"] for e in since["entry"]] == ["Organization"]
    everything = fresh_client.get("/_history").get_json()
    assert everything["total"] == 2


# http.html#history: _at lists the versions current at some point during the period
def test_at(fresh_client: FlaskClient) -> None:
    the_id = created_id(post(fresh_client, patient()))
    put(fresh_client, patient(id=the_id, gender="female"))
    second = fresh_client.get(f"/Patient/{the_id}").get_json()["meta"]["lastUpdated"]
    bundle = fresh_client.get(f"/Patient/{the_id}/_history",
                              query_string={"_at": second}).get_json()
    versions = [e["response"]["etag"] for e in bundle["entry"]]
    assert versions == ['W/"2"']
    year = fresh_client.get(f"/Patient/{the_id}/_history",
                            query_string={"_at": second[:4]}).get_json()
    assert year["total"] == 2


# bad history parameters -> 400 OperationOutcome with the parameter as expression
def test_history_bad_parameters(client: FlaskClient) -> None:
    for query, name in (("_count=-1", "_count"), ("_since=yesterday", "_since"),
                        ("_at=2021-13", "_at"), ("_foo=1", "_foo")):
        response = client.get(f"/_history?{query}")
        assert response.status_code == 400, query
        assert response.get_json()["issue"][0]["expression"] == [name]
