"""spec/xml_elements.json: the XML element order and kinds from the R4 StructureDefinitions."""

from __future__ import annotations

import json
from typing import Any

from fhir_server.spec import SPEC_DIR


def _types() -> dict[str, Any]:
    """The generated file's type keys."""
    types: dict[str, Any] = json.loads((SPEC_DIR / "xml_elements.json").read_bytes())["types"]
    return types


def _names(key: str) -> list[str]:
    """The JSON names of a type key's children, in order."""
    return [entry[0] for entry in _types()[key]]


def test_children_are_in_definition_order() -> None:
    # xml.html: "elements must appear in the order defined" (patient.html for Patient)
    assert _names("Patient")[:12] == [
        "id", "meta", "implicitRules", "language", "text", "contained", "extension",
        "modifierExtension", "identifier", "active", "name", "telecom"]
    assert _names("HumanName") == ["id", "extension", "use", "text", "family", "given",
                                   "prefix", "suffix", "period"]


def test_choices_are_expanded_in_type_order() -> None:
    # formats.html#choice: value[x] is valueString, valueQuantity...; one entry per type
    names = _names("Observation")
    start = names.index("valueQuantity")
    assert names[start:start + 3] == ["valueQuantity", "valueCodeableConcept", "valueString"]
    assert _names("Extension")[3:5] == ["valueBase64Binary", "valueBoolean"]


def test_kinds_flags_and_references() -> None:
    # json.html#primitive: boolean and number kinds; xml.html: xmlAttr elements are attributes
    entries = {entry[0]: entry[1:] for entry in _types()["Patient"]}
    assert entries["active"] == ["boolean", "boolean", ""]
    assert entries["name"] == ["HumanName", "complex", "*"]
    assert entries["contact"] == ["Patient.contact", "complex", "*"]
    assert entries["contained"] == ["Resource", "resource", "*"]
    assert entries["id"] == ["string", "string", ""]  # Resource.id is an element
    assert _types()["HumanName"][0] == ["id", "string", "string", "@"]  # Element.id
    assert ["url", "uri", "string", "@"] in _types()["Extension"]
    assert _types()["positiveInt"][-1] == ["value", "positiveInt", "number", "@"]
    assert _types()["decimal"][-1] == ["value", "decimal", "number", "@"]
    assert ["div", "xhtml", "xhtml", ""] in _types()["Narrative"]
    assert ["resource", "Resource", "resource", ""] in _types()["Bundle.entry"]
    assert ["resource", "Resource", "resource", ""] in _types()["Parameters.parameter"]
    # contentReference (questionnaire.html: item.item is #Questionnaire.item)
    assert ["item", "Questionnaire.item", "complex", "*"] in _types()["Questionnaire.item"]
