"""FHIR XML over HTTP (FHIR R4 http.html#mime-type, xml.html): reads, writes, searches,
bundles, operations and errors in application/fhir+xml, on a real app and database."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from fhir_server.model.xml import dump_xml, parse_xml
from fhir_server.rest.responses import as_xml
from tests.api.helpers import FHIR_JSON, created_id, patient, post

FHIR_XML = "application/fhir+xml"
XML_ANSWER = "application/fhir+xml; charset=utf-8"
SEND_XML = {"Content-Type": FHIR_XML, "Accept": FHIR_XML}


def _xml(response: Any) -> dict[str, Any]:
    """The FHIR XML body of a response, read back as the JSON dict."""
    assert response.headers["Content-Type"] == XML_ANSWER, response.get_data()[:300]
    return parse_xml(response.get_data())


def _versions(client: FlaskClient) -> int:
    """Every stored version of every type (creates, updates and deletes all add one)."""
    return int(client.get("/_history?_count=0").get_json()["total"])


def test_create_read_update_in_xml(client: FlaskClient) -> None:
    # http.html#create/#read/#update with Content-Type and Accept application/fhir+xml
    sent = patient("Trần", birthDate="1990-01-02", _birthDate={"id": "bd"})
    created = client.post("/Patient", data=dump_xml(sent), headers=SEND_XML)
    assert created.status_code == 201, created.get_data()[:500]
    body = _xml(created)
    the_id = body["id"]
    assert body["name"] == sent["name"] and body["_birthDate"] == {"id": "bd"}
    as_json = client.get(f"/Patient/{the_id}").get_json()
    assert as_json["name"][0]["family"] == "Trần" and as_json["birthDate"] == "1990-01-02"
    as_xml = client.get(f"/Patient/{the_id}", headers={"Accept": FHIR_XML})
    assert as_xml.status_code == 200 and _xml(as_xml) == as_json
    assert as_xml.headers["ETag"] == 'W/"1"'
    assert _xml(client.get(f"/Patient/{the_id}?_format=xml")) == as_json

    changed = {**as_json, "gender": "female"}
    del changed["meta"]
    updated = client.put(f"/Patient/{the_id}", data=dump_xml(changed), headers=SEND_XML)
    assert updated.status_code == 200 and _xml(updated)["gender"] == "female"
    assert client.get(f"/Patient/{the_id}").get_json()["meta"]["versionId"] == "2"
    vread = client.get(f"/Patient/{the_id}/_history/1",
                       query_string={"_format": "application/fhir+xml"})
    assert _xml(vread)["gender"] == "male"
    history = _xml(client.get(f"/Patient/{the_id}/_history", headers={"Accept": FHIR_XML}))
    assert history["type"] == "history" and len(history["entry"]) == 2


def test_search_bundle_in_xml(client: FlaskClient) -> None:
    # http.html#search: a searchset Bundle, resources in entry.resource (xml.html)
    the_id = created_id(post(client, patient("Lê")))
    response = client.get(f"/Patient?_id={the_id}&_format=xml&_pretty=true")
    assert b"\n  <type value=\"searchset\"/>" in response.get_data()
    bundle = _xml(response)
    assert bundle["resourceType"] == "Bundle" and bundle["total"] == 1
    assert bundle["entry"][0]["resource"]["id"] == the_id


def test_transaction_bundle_in_xml(client: FlaskClient) -> None:
    # http.html#transaction: a transaction Bundle posted as XML; the response in XML
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:0d7a1e3c-0000-4000-8000-000000000001",
         "resource": patient("Phạm"), "request": {"method": "POST", "url": "Patient"}},
        {"resource": {"resourceType": "Observation", "status": "final",
                      "code": {"text": "weight"},
                      "subject": {"reference": "urn:uuid:0d7a1e3c-0000-4000-8000-000000000001"},
                      "valueQuantity": {"value": 72.50, "unit": "kg"}},
         "request": {"method": "POST", "url": "Observation"}}]}
    raw = dump_xml(bundle).replace(b'<value value="72.5"/>', b'<value value="72.50"/>')
    response = client.post("/", data=raw, headers=SEND_XML)
    assert response.status_code == 200, response.get_data()[:500]
    answer = _xml(response)
    assert answer["type"] == "transaction-response"
    statuses = [entry["response"]["status"] for entry in answer["entry"]]
    assert [status.split()[0] for status in statuses] == ["201", "201"]
    location = answer["entry"][1]["response"]["location"].split("/_history")[0]
    observation = client.get(f"/{location}", headers={"Accept": FHIR_XML})
    assert b'<value value="72.50"/>' in observation.get_data()  # datatypes.html#decimal
    assert _xml(observation)["subject"]["reference"].startswith("Patient/")


def test_operation_with_an_xml_body(client: FlaskClient) -> None:
    # operations.html: a resource body in XML; the OperationOutcome answered in XML
    response = client.post("/Patient/$validate", data=dump_xml(patient()), headers=SEND_XML)
    assert response.status_code == 200, response.get_data()[:500]
    assert _xml(response)["resourceType"] == "OperationOutcome"


def test_capability_statement_lists_and_speaks_xml(client: FlaskClient) -> None:
    # capabilitystatement.html: format lists the mime types the server supports
    statement = _xml(client.get("/metadata?_format=xml"))
    assert {"xml", FHIR_XML, "json", FHIR_JSON} <= set(statement["format"])


XXE = (b"<?xml version='1.0'?><!DOCTYPE p [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
       b"<Patient xmlns='http://hl7.org/fhir'><name><family value='&x;'/></name></Patient>")
LAUGHS = (b"<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY a 'aaaaaaaaaa'>"
          + b"".join(b"<!ENTITY %s '%s'>" % (bytes([98 + i]), b"&%s;" % bytes([97 + i]) * 10)
                     for i in range(8))
          + b"]><Patient xmlns='http://hl7.org/fhir'><name><family value='&i;'/></name>"
            b"</Patient>")
BAD_BODIES = {
    "malformed": b"<Patient xmlns='http://hl7.org/fhir'><name>",
    "external entity": XXE,
    "billion laughs": LAUGHS,
    "unknown element": b"<Patient xmlns='http://hl7.org/fhir'><bogus value='1'/></Patient>",
    "not FHIR": b"<Patient><name/></Patient>",
}


def test_bad_xml_is_a_400_outcome_and_stores_nothing(client: FlaskClient) -> None:
    # http.html#create: a body that is not a valid resource is 400 with an OperationOutcome
    before = _versions(client)
    for name, body in BAD_BODIES.items():
        response = client.post("/Patient", data=body, headers=SEND_XML)
        assert response.status_code == 400, name
        outcome = _xml(response)
        assert outcome["resourceType"] == "OperationOutcome", name
        assert outcome["issue"][0]["code"] in ("structure", "invalid"), name
        assert "root:" not in outcome["issue"][0]["diagnostics"], name  # no /etc/passwd
        as_json = client.post("/Patient", data=body, headers={"Content-Type": FHIR_XML})
        assert as_json.status_code == 400 and as_json.mimetype == FHIR_JSON, name
    unknown = client.post("/Patient", data=BAD_BODIES["unknown element"],
                          headers={"Content-Type": "text/xml"}).get_json()
    assert unknown["issue"][0]["expression"] == ["Patient.bogus"]
    bundle = client.post("/", data=b"<Bundle xmlns='http://hl7.org/fhir'><type value='batch'/>"
                         b"<entry><resource/></entry></Bundle>", headers=SEND_XML)
    assert bundle.status_code == 400 and _xml(bundle)["resourceType"] == "OperationOutcome"
    assert _versions(client) == before


def test_versions_and_browsers(client: FlaskClient) -> None:
    # http.html#version-parameter: fhirVersion is honoured for XML as for JSON
    url = f"/Patient/{created_id(post(client, patient()))}"
    refused = client.get(url, headers={"Accept": f"{FHIR_XML}; fhirVersion=3.0"})
    assert refused.status_code == 406 and refused.get_json()["issue"][0]["code"] == (
        "not-supported")
    assert client.get(url, headers={"Accept": f"{FHIR_XML}; fhirVersion=4.0"}).headers[
        "Content-Type"] == XML_ANSWER
    body = dump_xml(patient())
    assert client.post("/Patient", data=body, headers={
        "Content-Type": f"{FHIR_XML}; fhirVersion=3.0"}).status_code == 415
    assert client.post("/Patient", data=body, headers={
        "Content-Type": f"{FHIR_XML}; fhirVersion=4.0"}).status_code == 201
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert client.get(url, headers={"Accept": browser}).mimetype == FHIR_JSON
    assert client.get(url, headers={"Accept": f"application/xml, {FHIR_JSON};q=0.5"}).headers[
        "Content-Type"] == XML_ANSWER
    missing = client.get("/Patient/no-such-patient", headers={"Accept": FHIR_XML})
    assert missing.status_code == 404 and _xml(missing)["issue"][0]["code"] == "not-found"


def test_json_patch_stays_json(client: FlaskClient) -> None:
    # http.html#patch: JSON Patch bodies; the answer may still be XML
    url = f"/Patient/{created_id(post(client, patient()))}"
    response = client.patch(url, data=b'[{"op": "replace", "path": "/gender", "value": "other"}]',
                            headers={"Content-Type": "application/json-patch+json",
                                     "Accept": FHIR_XML})
    assert response.status_code == 200 and _xml(response)["gender"] == "other"
    assert client.patch(url, data=b"<Parameters xmlns='http://hl7.org/fhir'/>",
                        headers={"Content-Type": FHIR_XML}).status_code == 415


def test_conditional_create_and_update_in_xml(client: FlaskClient) -> None:
    # http.html#ccreate and #cond-update with XML bodies
    body = patient()
    mrn = body["identifier"][0]["value"]
    criteria = f"identifier=urn:test:mrn|{mrn}"
    first = client.post("/Patient", data=dump_xml(body),
                        headers={**SEND_XML, "If-None-Exist": criteria})
    assert first.status_code == 201
    again = client.post("/Patient", data=dump_xml(body),
                        headers={**SEND_XML, "If-None-Exist": criteria})
    assert again.status_code == 200 and _xml(again)["id"] == _xml(first)["id"]
    updated = client.put(f"/Patient?{criteria}", data=dump_xml({**body, "gender": "other"}),
                         headers={"Content-Type": "application/xml"})
    assert updated.status_code == 200 and updated.get_json()["gender"] == "other"
    assert updated.get_json()["id"] == _xml(first)["id"]


def test_batch_in_xml_and_what_cannot_be_xml(client: FlaskClient) -> None:
    # http.html#transaction: a batch Bundle in XML; a body outside R4 (an element the R4B models
    # know but R4 does not) is answered as JSON rather than failing after the work is done
    the_id = created_id(post(client, patient()))
    batch = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": f"Patient/{the_id}"}},
        {"request": {"method": "GET", "url": "Patient/no-such-patient"}}]}
    answer = _xml(client.post("/", data=dump_xml(batch), headers=SEND_XML))
    assert answer["type"] == "batch-response"
    assert answer["entry"][0]["resource"]["id"] == the_id
    assert answer["entry"][1]["response"]["status"].startswith("404")
    assert as_xml({"resourceType": "Patient", "notInR4": True}) is None
    assert as_xml({"no": "resource"}) is None
