"""Decimal precision over HTTP (FHIR R4 datatypes.html#decimal; json.html#primitive)."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient

FHIR_JSON = {"Content-Type": "application/fhir+json"}


def _immunization(patient_id: str, marker: str) -> bytes:
    return ('{"resourceType":"Immunization","status":"completed",'
            '"identifier":[{"system":"urn:test:imm","value":"' + marker + '"}],'
            '"vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"208"}]},'
            '"patient":{"reference":"Patient/' + patient_id + '"},'
            '"occurrenceDateTime":"2021-06-01",'
            '"doseQuantity":{"value":0.50,"unit":"mL","system":"http://unitsofmeasure.org",'
            '"code":"mL"}}').encode()


def test_decimals_read_back_exactly(client: FlaskClient) -> None:
    """datatypes.html#decimal ("precision of the decimal value has significance"): a
    doseQuantity of 0.50 and a longitude of -83.694710 come back exactly so from create, read,
    vread, history and search (not 0.5 / -83.69471)."""
    location = client.post("/Location", data=b'{"resourceType":"Location","name":"site",'
                           b'"position":{"longitude":-83.694710,"latitude":42.2560}}',
                           headers=FHIR_JSON)
    assert b'"longitude":-83.694710,"latitude":42.2560' in location.data
    location_id = location.get_json()["id"]
    assert b"-83.694710" in client.get(f"/Location/{location_id}").data
    patient = client.post("/Patient", json={"resourceType": "Patient"}, headers=FHIR_JSON)
    marker = uuid.uuid4().hex
    created = client.post("/Immunization", data=_immunization(patient.get_json()["id"], marker),
                          headers=FHIR_JSON)
    assert created.status_code == 201, created.get_json()
    the_id = created.get_json()["id"]
    for url in (f"/Immunization/{the_id}", f"/Immunization/{the_id}/_history/1",
                f"/Immunization/{the_id}/_history", f"/Immunization?identifier={marker}"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert b'"value":0.50' in response.data, url


def test_decimal_search_still_matches(client: FlaskClient) -> None:
    """search.html#quantity and #number: a stored 0.50 is found by value-quantity=0.5 and
    =0.50 (same value, implicit range of the given precision) and by ge0.4; not by 0.6."""
    marker = uuid.uuid4().hex
    body = ('{"resourceType":"Observation","status":"final","code":{"coding":[{"system":'
            '"urn:test:obs","code":"' + marker + '"}]},"valueQuantity":{"value":0.50,'
            '"system":"http://unitsofmeasure.org","code":"mg"}}').encode()
    assert client.post("/Observation", data=body, headers=FHIR_JSON).status_code == 201

    def total(value: str) -> int:
        found = client.get("/Observation", query_string={
            "code": f"urn:test:obs|{marker}", "value-quantity": value}).get_json()
        return int(found["total"]) if "total" in found else len(found.get("entry", []))

    assert total("0.5") == 1 and total("0.50") == 1 and total("ge0.4") == 1
    assert total("0.5|http://unitsofmeasure.org|mg") == 1
    assert total("0.6") == 0 and total("gt0.5") == 0
    data = client.get("/Observation", query_string={"code": f"urn:test:obs|{marker}"}).data
    assert b'"value":0.50' in data


def test_decimal_patch_keeps_precision(client: FlaskClient) -> None:
    """http.html#patch: a JSON Patch replacing a value with 1.500 stores 1.500; untouched
    decimals keep their text."""
    location = client.post("/Location", data=b'{"resourceType":"Location",'
                           b'"position":{"longitude":-83.694710,"latitude":42.2560}}',
                           headers=FHIR_JSON).get_json()
    patched = client.patch(f"/Location/{location['id']}",
                           data=b'[{"op":"replace","path":"/position/latitude","value":1.500}]',
                           headers={"Content-Type": "application/json-patch+json"})
    assert patched.status_code == 200, patched.get_json()
    assert b'"longitude":-83.694710,"latitude":1.500' in client.get(
        f"/Location/{location['id']}").data
