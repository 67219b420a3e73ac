"""Reference resolution inside Bundles (FHIR R4 bundle.html#references, http.html#trules)."""

from __future__ import annotations

import copy

import pytest

from fhir_server.errors import FhirError
from fhir_server.interactions.bundle_refs import ReferenceMap, is_conditional, reference_strings

PLACEHOLDER = "urn:uuid:1b5c0b8e-3d3b-4f4e-9a51-0a6f8f6a1c11"


def _map() -> ReferenceMap:
    refs = ReferenceMap("https://fhir.test/fhir", lambda ref: "Patient/found")
    refs.add(PLACEHOLDER, "Patient", "p1")
    refs.add("urn:oid:1.2.3", "Organization", "o1")
    return refs


# bundle.html#references: every Reference.reference, at any depth, incl. contained resources
def test_rewrite_nested_and_contained() -> None:
    resource = {"resourceType": "Immunization", "patient": {"reference": PLACEHOLDER},
                "performer": [{"actor": {"reference": "urn:oid:1.2.3"}}],
                "contained": [{"resourceType": "Patient", "id": "c",
                               "generalPractitioner": [{"reference": "urn:oid:1.2.3"}]}],
                "reasonReference": [{"reference": "#c"}]}
    original = copy.deepcopy(resource)
    out = _map().rewrite(resource, "Bundle.entry[0].resource")
    assert out["patient"]["reference"] == "Patient/p1"
    assert out["performer"][0]["actor"]["reference"] == "Organization/o1"
    assert out["contained"][0]["generalPractitioner"][0]["reference"] == "Organization/o1"
    assert out["reasonReference"][0]["reference"] == "#c"
    assert resource == original  # copy-on-write: a retried transaction starts from the input


# bundle.html#references: narrative links to placeholders are updated as well
def test_rewrite_narrative_links() -> None:
    div = f'<div xmlns="http://www.w3.org/1999/xhtml"><a href="{PLACEHOLDER}">x</a></div>'
    out = _map().rewrite({"resourceType": "Patient", "text": {"status": "generated",
                                                              "div": div}}, "X")
    assert 'href="Patient/p1"' in out["text"]["div"]


# bundle.html#references: a placeholder that names no entry is an error at its element
def test_broken_placeholder() -> None:
    with pytest.raises(FhirError) as raised:
        _map().rewrite({"resourceType": "Immunization",
                        "patient": {"reference": "urn:uuid:0000"}}, "Bundle.entry[2].resource")
    assert raised.value.issues[0].expression == ("Bundle.entry[2].resource.patient.reference",)


# bundle.html#references (conditional references) go through the resolver
def test_conditional_reference() -> None:
    assert is_conditional("Patient?identifier=a|b")
    assert not is_conditional("Patient/1")
    out = _map().rewrite({"resourceType": "Immunization",
                          "patient": {"reference": "Patient?identifier=a|b"}}, "X")
    assert out["patient"]["reference"] == "Patient/found"


def test_unchanged_resource_is_returned_as_is() -> None:
    resource = {"resourceType": "Patient", "managingOrganization": {"reference": "Organization/9"}}
    assert _map().rewrite(resource, "X") is resource
    assert list(reference_strings(resource)) == ["Organization/9"]
