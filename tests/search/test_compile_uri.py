"""URI search against the real database (search.html#uri): exact, :below, :above, _profile."""

from __future__ import annotations

import pytest

from tests.search.conftest import SearchBed


@pytest.fixture(scope="module")
def systems(bed: SearchBed) -> None:
    """Code systems at nested URLs, a profiled patient."""
    for rid, url in (("u1", "http://acme.org/fhir/CodeSystem/a"),
                     ("u2", "http://acme.org/fhir/CodeSystem/a/v2"),
                     ("u3", "http://other.org/fhir/CodeSystem/b")):
        bed.add({"resourceType": "CodeSystem", "id": rid, "url": url, "status": "active",
                 "content": "not-present"})
    bed.add({"resourceType": "Patient", "id": "u-pat",
             "meta": {"profile": ["http://fhir.gov.vn/StructureDefinition/vn-patient"],
                      "source": "urn:app:mobile"}})


def test_exact(bed: SearchBed, systems: None) -> None:
    assert bed.ids("CodeSystem", "url=http://acme.org/fhir/CodeSystem/a") == {"u1"}
    assert bed.ids("CodeSystem", "url=http://acme.org/fhir") == set()


def test_below_and_above(bed: SearchBed, systems: None) -> None:
    assert bed.ids("CodeSystem", "url:below=http://acme.org/fhir") == {"u1", "u2"}
    assert bed.ids("CodeSystem", "url:above=http://acme.org/fhir/CodeSystem/a/v2/x") == {
        "u1", "u2"}
    assert bed.ids("CodeSystem", "url:below=http://acme.org/fhir,http://other.org") == {
        "u1", "u2", "u3"}


def test_contains_and_missing(bed: SearchBed, systems: None) -> None:
    assert bed.ids("CodeSystem", "url:contains=other") == {"u3"}
    assert "u-pat" in bed.ids("Patient", "_profile:missing=false")


def test_profile_and_source(bed: SearchBed, systems: None) -> None:
    # search.html#all: _profile, _source
    url = "http://fhir.gov.vn/StructureDefinition/vn-patient"
    assert bed.ids("Patient", f"_profile={url}") == {"u-pat"}
    assert bed.ids("Patient", "_source=urn:app:mobile") == {"u-pat"}
