"""The generated spec files: fresh, deterministic, and equal to the reference copy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fhir_server import spec
from fhir_server.resource_types import RESOURCE_TYPES
from fhir_server.spec.make_spec import dump_lines, write_spec_files
from fhir_server.spec.package import ensure_examples_package

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "fhir-r4"
if not SHARED.is_dir():
    SHARED = Path("/work/shared/data/fhir-r4")
REFERENCE = SHARED / "r4-searchparameters.json"
REFERENCE_TABLE = SHARED / "r4-searchparameters.tsv"
COMPARED_FIELDS = ("code", "base", "type", "expression", "target", "modifier", "comparator",
                   "multipleOr", "multipleAnd", "chain")


def _reference_parameters() -> dict[str, dict[str, Any]]:
    """url -> SearchParameter of the shared reference bundle."""
    bundle = json.loads(REFERENCE.read_bytes())
    return {entry["resource"]["url"]: entry["resource"] for entry in bundle["entry"]}


@pytest.mark.examples
def test_committed_files_are_what_the_generator_writes(tmp_path: Path) -> None:
    # the data files are derived from hl7.fhir.r4.examples@4.0.1; a re-run gives the same bytes
    written = write_spec_files(ensure_examples_package(), tmp_path)
    assert [path.name for path in written] == [
        "resource_types.json", "search_parameters.json", "compartments.json", "bindings.json",
        "xml_elements.json"]
    for path in written:
        assert path.read_bytes() == (spec.SPEC_DIR / path.name).read_bytes(), path.name


def test_search_parameters_match_the_reference_copy() -> None:
    # FHIR R4 searchparameter-registry.html: same code/type/expression/target for the 13 types
    reference = _reference_parameters()
    rows = [line.split("\t") for line in REFERENCE_TABLE.read_text().splitlines()[1:]]
    covered = {row[0] for row in rows} - {"Resource", "DomainResource"}
    generated = {parameter["url"]: parameter for parameter in spec.search_parameters()}
    for url, expected in reference.items():
        for field in COMPARED_FIELDS:
            assert generated[url].get(field) == expected.get(field), (url, field)
        parts = [{"definition": part["definition"], "expression": part["expression"]}
                 for part in expected.get("component", [])]
        assert generated[url].get("component", []) == parts, url
    in_scope = {url for url, parameter in generated.items()
                if covered.intersection(parameter["base"])
                or set(parameter["base"]) <= {"Resource", "DomainResource"}}
    assert in_scope == set(reference)
    assert len(covered) == 12


def test_search_parameters_cover_all_our_types() -> None:
    # FHIR R4 searchparameter-registry.html: every resource has search parameters
    parameters = spec.search_parameters()
    assert len(parameters) == len({parameter["url"] for parameter in parameters})
    for type_name in RESOURCE_TYPES:
        codes = spec.search_parameters_for(type_name)
        assert {"_id", "_lastUpdated", "_tag", "_profile"} <= set(codes), type_name
    assert "xpath" not in parameters[0] and "description" not in parameters[0]


def test_search_parameter_expressions_narrow_to_one_type() -> None:
    # FHIR R4 searchparameter.html: a shared parameter's expression is a union over its bases
    immunization = spec.search_parameters_for("Immunization")
    assert immunization["patient"]["expression"] == "Immunization.patient"
    assert immunization["date"]["expression"] == "Immunization.occurrence"
    assert immunization["patient"]["target"] == ["Patient", "Group"]  # as published
    practitioner = spec.search_parameters_for("Practitioner")
    assert practitioner["email"]["expression"] == "Practitioner.telecom.where(system='email')"
    questionnaire = spec.search_parameters_for("Questionnaire")
    assert questionnaire["context-quantity"]["expression"] == (
        "(Questionnaire.useContext.value as Quantity) | (Questionnaire.useContext.value as Range)")
    assert spec.search_parameters_for("Patient")["_lastUpdated"]["expression"] == (
        "Resource.meta.lastUpdated")


def test_patient_compartment() -> None:
    # FHIR R4 compartmentdefinition-patient.html: resource -> the params that link it to Patient
    compartment = spec.patient_compartment()
    assert compartment["Immunization"] == ["patient"]
    assert compartment["Patient"] == ["link"]
    assert compartment["QuestionnaireResponse"] == ["subject", "author"]
    assert compartment["Appointment"] == ["actor"]
    assert set(compartment) <= set(RESOURCE_TYPES)
    assert "Practitioner" not in compartment and "Organization" not in compartment


def test_dump_lines_is_compact_sorted_and_valid_json() -> None:
    # RFC 8259: the data files stay plain JSON
    data = {"b": [1, {"y": 2, "x": 1}], "a": {}}
    text = dump_lines(data, 1)
    assert text == '{\n "a":{},\n "b":[1,{"x":1,"y":2}]\n}\n'
    assert json.loads(text) == data


def test_each_reference_row_resolves_per_type() -> None:
    # FHIR R4 search.html: a parameter is looked up by (resource type, code)
    rows = [line.split("\t") for line in REFERENCE_TABLE.read_text().splitlines()[1:]]
    for resource, code, kind, parameter_id, _expression, target in rows:
        if resource in ("Resource", "DomainResource"):
            resource = "Patient"
        found = spec.search_parameters_for(resource)[code]
        assert found["type"] == kind, (resource, code)
        assert found["url"] == f"http://hl7.org/fhir/SearchParameter/{parameter_id}"
        assert sorted(found.get("target", [])) == sorted(filter(None, target.split(",")))
