"""CapabilityStatement (FHIR R4 http.html#capabilities) and the OpenAPI document + docs page."""

from __future__ import annotations

from flask.testing import FlaskClient

from fhir_server.resource_types import RESOURCE_TYPES


# http.html#capabilities: GET /metadata returns a CapabilityStatement for FHIR 4.0.1
def test_capability_statement(client: FlaskClient) -> None:
    response = client.get("/metadata")
    assert response.status_code == 200
    statement = response.get_json()
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    assert statement["kind"] == "instance"
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(resources) == set(RESOURCE_TYPES)
    patient = resources["Patient"]
    codes = {i["code"] for i in patient["interaction"]}
    assert {"read", "vread", "update", "patch", "delete", "history-instance", "create",
            "search-type"} <= codes
    assert patient["versioning"] == "versioned-update" and patient["conditionalCreate"] is True
    assert {p["name"] for p in patient["searchParam"]} >= {"_id", "identifier"}


EXTRA = {"Encounter": {"status": "finished", "class": {"code": "AMB"}},
         "RelatedPerson": {"patient": {"reference": "Patient/x"}}}


def test_capability_statement_lists_the_compartments(client: FlaskClient) -> None:
    """capabilitystatement.html rest.compartment: each compartment the server searches by (its
    CompartmentDefinition canonical), and each of them answers a compartment search."""
    rest = client.get("/metadata").get_json()["rest"][0]
    names = [url.rsplit("/", 1)[1] for url in rest["compartment"]]
    assert names == ["device", "encounter", "patient", "practitioner", "relatedperson"]
    assert all(url.startswith("http://hl7.org/fhir/CompartmentDefinition/")
               for url in rest["compartment"])
    for kind in ("Patient", "Encounter", "RelatedPerson", "Practitioner", "Device"):
        created = client.post(f"/{kind}", json={"resourceType": kind, **EXTRA.get(kind, {})})
        assert created.status_code == 201, created.get_json()
        found = client.get(f"/{kind}/{created.get_json()['id']}/Communication")
        assert found.status_code == 200 and found.get_json()["total"] == 0, found.get_json()


def test_capability_statement_is_valid_fhir(client: FlaskClient) -> None:
    from fhir_server.model.parse import validate_resource

    validate_resource(client.get("/metadata").get_json(), "CapabilityStatement",
                      stored_only=False)


# the OpenAPI document describes every type with its JSON schema
def test_openapi_document(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for name in RESOURCE_TYPES:
        assert f"/{name}/{{id}}" in spec["paths"], name
        assert name in spec["components"]["schemas"], name
    create = spec["paths"]["/Immunization"]["post"]["requestBody"]["content"]
    assert create["application/fhir+json"]["schema"]["$ref"].endswith("/Immunization")


# http.html#summary: every documented resource has its fixed resourceType, every error is an
# OperationOutcome in application/fhir+json, and the document stays small
def test_openapi_schemas_describe_real_responses(client: FlaskClient) -> None:
    response = client.get("/openapi.json")
    assert len(response.data) < 2_000_000
    spec = response.get_json()
    schemas = spec["components"]["schemas"]
    for name in [*RESOURCE_TYPES, "Bundle", "OperationOutcome"]:
        assert schemas[name]["properties"]["resourceType"]["enum"] == [name], name
        assert "resourceType" in schemas[name]["required"], name
    read = spec["paths"]["/Patient/{id}"]["get"]["responses"]
    assert read["200"]["$ref"].endswith("/responses/Patient")
    not_found = spec["components"]["responses"]["Error404"]["content"]
    assert list(not_found) == ["application/fhir+json"]
    assert not_found["application/fhir+json"]["schema"]["$ref"].endswith("/OperationOutcome")
    assert {"400", "404", "410"} <= set(read)


# the docs page loads its assets from this server, never a CDN
def test_docs_page_uses_local_assets(client: FlaskClient) -> None:
    page = client.get("/docs").get_data(as_text=True)
    assert "swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "https://" not in page
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
