"""Conformance resources (profiles/ + terminology/) loaded into the store at start-up as FHIR
resources, readable like any other (FHIR R4 http.html#read); upserted only when missing or
changed (meta.source carries a content hash)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from fhir_server.conformance import (
    SOURCE_PREFIX,
    identifier_systems,
    load_conformance,
    operation_definition_resources,
    profile_resources,
    terminology_resources,
)
from fhir_server.settings import Settings

VN_PATIENT = "https://fhir.moh.gov.vn/fhir/StructureDefinition/vn-patient"


@pytest.fixture(scope="module")
def loaded(make_app: Callable[..., Flask]) -> Flask:
    """One app that loaded everything at start-up (slow on the embedded store: ~4 MB)."""
    return make_app(load_conformance=True)


def test_profile_resources_have_stable_ids_and_sources() -> None:
    resources = profile_resources()
    kinds = sorted({r["resourceType"] for r in resources})
    assert kinds == ["CodeSystem", "Measure", "Questionnaire", "SearchParameter",
                     "StructureDefinition", "ValueSet"]  # CodeSystem: vn-campaign-indicator
    assert len({(r["resourceType"], r["id"]) for r in resources}) == len(resources)
    assert all(r["meta"]["source"].startswith(SOURCE_PREFIX + "profiles/") for r in resources)


def test_identifier_systems_are_substituted() -> None:
    settings = Settings(cccd_system="https://id.example.vn/cccd")
    patient = next(r for r in profile_resources(identifier_systems(settings))
                   if r["url"] == VN_PATIENT)
    text = str(patient)
    assert "https://id.example.vn/cccd" in text and "urn:vn:cccd" not in text
    default = next(r for r in profile_resources() if r["url"] == VN_PATIENT)
    assert default["meta"]["source"] != patient["meta"]["source"]


def test_loaded_resources_are_readable(loaded: Flask) -> None:
    client: FlaskClient = loaded.test_client()
    for path in ("/StructureDefinition/vn-patient", "/Questionnaire/vn-health-declaration",
                 "/ValueSet/vn-immunization-status", "/CodeSystem/vn-province",
                 "/ConceptMap/vn-province-legacy-to-2025"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.get_json()["meta"]["source"].startswith(SOURCE_PREFIX)
    expanded = client.get("/ValueSet/vn-province/$expand?count=1").get_json()
    assert expanded["expansion"]["total"] == 34


def test_reload_writes_only_what_changed(loaded: Flask) -> None:
    services = loaded.extensions["fhir"].internal()
    again = load_conformance(services.store, services.settings)
    expected = (len(profile_resources()) + sum(1 for _ in terminology_resources())
                + sum(1 for _ in operation_definition_resources(services.settings.base_url)))
    assert again.written == [] and again.unchanged == expected
    stale = dict(services.store.read("ValueSet", "vn-immunization-status").resource)
    stale["meta"] = {"source": SOURCE_PREFIX + "old"}
    services.store.update("ValueSet", "vn-immunization-status", stale)
    assert load_conformance(services.store, services.settings).written == [
        "ValueSet/vn-immunization-status"]


# loaded conformance resources are searchable like any other (FHIR R4 search.html#uri, #token)
def test_loaded_resources_are_searchable(loaded: Flask) -> None:
    client: FlaskClient = loaded.test_client()
    found = client.get("/StructureDefinition", query_string={"url": VN_PATIENT}).get_json()
    assert [e["resource"]["id"] for e in found["entry"]] == ["vn-patient"]
    questionnaires = client.get("/Questionnaire?status=active&_count=50").get_json()
    assert "vn-health-declaration" in {e["resource"]["id"] for e in questionnaires["entry"]}
    provinces = client.get("/CodeSystem?name:contains=province&_summary=true").get_json()
    assert any(e["resource"]["id"] == "vn-province" for e in provinces["entry"])
