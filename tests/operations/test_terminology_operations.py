"""Terminology operations (FHIR R4 terminology-service.html; OperationDefinitions
CodeSystem-lookup, ValueSet-expand, ValueSet-validate-code, CodeSystem-validate-code,
ConceptMap-translate): GET with query parameters, POST with Parameters, instance level."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

TERMINOLOGY = "https://fhir.moh.gov.vn/terminology"
PROVINCE_CS = f"{TERMINOLOGY}/CodeSystem/vn-province"
PROVINCE_VS = f"{TERMINOLOGY}/ValueSet/vn-province"
VACCINE_CS = f"{TERMINOLOGY}/CodeSystem/vn-covid19-vaccine"
VACCINE_VS = f"{TERMINOLOGY}/ValueSet/vn-covid19-vaccine"
LEGACY_PROVINCE_CS = f"{TERMINOLOGY}/CodeSystem/vn-province-legacy"
PROVINCE_MAP = f"{TERMINOLOGY}/ConceptMap/vn-province-legacy-to-2025"
FHIR_JSON = {"Content-Type": "application/fhir+json"}


def _params(body: dict[str, Any]) -> dict[str, Any]:
    """name -> value (first of each name) of an output Parameters."""
    out: dict[str, Any] = {}
    for parameter in body["parameter"]:
        value = next((v for k, v in parameter.items() if k.startswith("value")),
                     parameter.get("part"))
        out.setdefault(parameter["name"], value)
    return out


def _post(client: FlaskClient, url: str, *parameters: dict[str, Any]) -> Any:
    return client.post(url, json={"resourceType": "Parameters", "parameter": list(parameters)},
                       headers=FHIR_JSON)


def test_lookup(client: FlaskClient) -> None:
    body = client.get(f"/CodeSystem/$lookup?system={PROVINCE_CS}&code=01").get_json()
    assert _params(body)["display"] == "Thành phố Hà Nội"
    posted = _post(client, "/CodeSystem/$lookup", {"name": "coding", "valueCoding": {
        "system": VACCINE_CS, "code": "moderna"}}).get_json()
    assert "Moderna" in _params(posted)["display"]


def test_lookup_errors(client: FlaskClient) -> None:
    unknown = client.get("/CodeSystem/$lookup?system=http://example.org/cs&code=1")
    assert unknown.status_code == 404
    assert "http://example.org/cs" in unknown.get_json()["issue"][0]["diagnostics"]
    assert client.get(f"/CodeSystem/$lookup?system={PROVINCE_CS}&code=00").status_code == 404
    assert client.get(f"/CodeSystem/$lookup?system={PROVINCE_CS}").status_code == 400


def test_expand_with_filter_and_paging(client: FlaskClient) -> None:
    body = client.get(f"/ValueSet/$expand?url={PROVINCE_VS}&filter=ha noi").get_json()
    assert body["resourceType"] == "ValueSet"
    assert [c["code"] for c in body["expansion"]["contains"]] == ["01"]
    page = client.get(f"/ValueSet/$expand?url={PROVINCE_VS}&count=5&offset=10").get_json()
    assert page["expansion"]["total"] == 34 and page["expansion"]["offset"] == 10
    assert len(page["expansion"]["contains"]) == 5
    posted = _post(client, "/ValueSet/$expand", {"name": "url", "valueUri": PROVINCE_VS},
                   {"name": "count", "valueInteger": 0}).get_json()
    assert posted["expansion"]["total"] == 34 and "contains" not in posted["expansion"]


def test_expand_errors(client: FlaskClient) -> None:
    assert client.get(f"/ValueSet/$expand?url={PROVINCE_VS}&count=x").status_code == 400
    assert client.get("/ValueSet/$expand").status_code == 400
    assert client.get("/ValueSet/$expand?url=http://example.org/vs").status_code == 404


def test_expand_inline_and_stored_value_sets(client: FlaskClient) -> None:
    north = {"resourceType": "ValueSet", "url": "https://example.org/ValueSet/north",
             "status": "active", "compose": {"include": [{"system": PROVINCE_CS, "concept": [
                 {"code": "01"}, {"code": "04"}]}]}}
    inline = _post(client, "/ValueSet/$expand", {"name": "valueSet", "resource": north})
    assert [c["display"] for c in inline.get_json()["expansion"]["contains"]] == [
        "Thành phố Hà Nội", "Tỉnh Cao Bằng"]
    created = client.post("/ValueSet", json=north, headers=FHIR_JSON)
    the_id = created.get_json()["id"]
    stored = client.get(f"/ValueSet/{the_id}/$expand?filter=cao").get_json()
    assert [c["code"] for c in stored["expansion"]["contains"]] == ["04"]
    check = client.get(f"/ValueSet/{the_id}/$validate-code?system={PROVINCE_CS}&code=08")
    assert _params(check.get_json())["result"] is False


def test_value_set_validate_code(client: FlaskClient) -> None:
    ok = client.get(f"/ValueSet/$validate-code?url={VACCINE_VS}&system={VACCINE_CS}"
                    "&code=pfizer-biontech").get_json()
    assert _params(ok)["result"] is True
    bad = client.get(f"/ValueSet/$validate-code?url={VACCINE_VS}&system={VACCINE_CS}"
                     "&code=covaxin").get_json()
    assert _params(bad)["result"] is False and "covaxin" in _params(bad)["message"]
    concept = _post(client, "/ValueSet/$validate-code", {"name": "url", "valueUri": VACCINE_VS},
                    {"name": "codeableConcept", "valueCodeableConcept": {"coding": [
                        {"system": "http://hl7.org/fhir/sid/cvx", "code": "208"},
                        {"system": VACCINE_CS, "code": "pfizer-biontech"}]}}).get_json()
    assert _params(concept)["result"] is True
    unknown_system = client.get(f"/ValueSet/$validate-code?url={VACCINE_VS}"
                                "&system=http://example.org/cs&code=1")
    assert unknown_system.status_code == 404
    assert "http://example.org/cs" in unknown_system.get_json()["issue"][0]["diagnostics"]


def test_code_system_validate_code(client: FlaskClient) -> None:
    ok = client.get(f"/CodeSystem/$validate-code?url={PROVINCE_CS}&code=79").get_json()
    assert _params(ok)["result"] is True
    wrong_display = client.get(f"/CodeSystem/$validate-code?url={PROVINCE_CS}&code=79"
                               "&display=Hà Nội").get_json()
    assert _params(wrong_display)["result"] is False
    assert client.get("/CodeSystem/$validate-code?url=http://example.org/cs&code=1"
                      ).status_code == 404


def test_translate_legacy_province(client: FlaskClient) -> None:
    body = client.get(f"/ConceptMap/$translate?url={PROVINCE_MAP}&system={LEGACY_PROVINCE_CS}"
                      "&code=02").get_json()
    params = _params(body)
    assert params["result"] is True
    match = {p["name"]: next(v for k, v in p.items() if k.startswith("value"))
             for p in params["match"]}
    assert match["equivalence"] == "wider" and match["concept"]["code"] == "08"
    by_source = _post(client, "/ConceptMap/$translate", {"name": "coding", "valueCoding": {
        "system": LEGACY_PROVINCE_CS, "code": "01"}}).get_json()
    assert _params(by_source)["result"] is True
    elsewhere = client.get(f"/ConceptMap/$translate?url={PROVINCE_MAP}&system="
                           f"{LEGACY_PROVINCE_CS}&code=02&targetsystem=http://example.org/cs")
    assert _params(elsewhere.get_json())["result"] is False


def test_translate_errors(client: FlaskClient) -> None:
    assert client.get(f"/ConceptMap/$translate?url={PROVINCE_MAP}&code=02").status_code == 400
    assert client.get("/ConceptMap/$translate?url=http://example.org/cm&system=x&code=1"
                      ).status_code == 404
    assert client.get(f"/ConceptMap/$translate?url={PROVINCE_MAP}&system={LEGACY_PROVINCE_CS}"
                      "&code=02&reverse=true").status_code == 400


def test_operations_are_in_the_capability_statement(client: FlaskClient) -> None:
    rest = client.get("/metadata").get_json()["rest"][0]
    operations = {(r["type"], op["name"]) for r in rest["resource"]
                  for op in r.get("operation", [])}
    assert {("CodeSystem", "lookup"), ("ValueSet", "expand"), ("ValueSet", "validate-code"),
            ("CodeSystem", "validate-code"), ("ConceptMap", "translate")} <= operations
