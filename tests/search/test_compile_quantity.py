"""Quantity and composite search against the real database (search.html#quantity,
#composite), on the conformance resources' useContext parameters."""

from __future__ import annotations

import pytest

from fhir_server.errors import InvalidRequest
from tests.search.conftest import SearchBed

USAGE = "http://terminology.hl7.org/CodeSystem/usage-context-type"
UCUM = "http://unitsofmeasure.org"


@pytest.fixture(scope="module")
def contexts(bed: SearchBed) -> None:
    """Questionnaires whose useContext carries ages as quantities, ranges and concepts."""
    def questionnaire(rid: str, *contexts: dict[str, object]) -> None:
        bed.add({"resourceType": "Questionnaire", "id": rid, "status": "active",
                 "useContext": list(contexts)})
    age = {"system": USAGE, "code": "age"}
    questionnaire("q-5mg", {"code": age, "valueQuantity": {"value": 5.4, "system": UCUM,
                                                           "code": "a", "unit": "years"}})
    questionnaire("q-range", {"code": age, "valueRange": {"low": {"value": 18, "code": "a"},
                                                          "high": {"value": 65, "code": "a"}}})
    questionnaire("q-focus", {"code": {"system": USAGE, "code": "focus"}, "valueCodeableConcept": {
        "coding": [{"system": "http://snomed.info/sct", "code": "840539006"}]}},
        {"code": age, "valueQuantity": {"value": 100, "unit": "years"}})


def test_number_precision(bed: SearchBed, contexts: None) -> None:
    # search.html#number: 5.4 is [5.35, 5.45); 100 is [99.5, 100.5)
    assert bed.ids("Questionnaire", "context-quantity=5.4") == {"q-5mg"}
    assert bed.ids("Questionnaire", "context-quantity=5") == {"q-5mg"}
    assert bed.ids("Questionnaire", "context-quantity=5.40") == {"q-5mg"}
    assert bed.ids("Questionnaire", "context-quantity=5.41") == set()
    assert bed.ids("Questionnaire", "context-quantity=100") == {"q-focus"}
    assert bed.ids("Questionnaire", "context-quantity=1e2") == {"q-focus"}


@pytest.mark.parametrize(("value", "expected"), [
    ("gt50", {"q-range", "q-focus"}), ("lt10", {"q-5mg", "q-range"} - {"q-range"}),
    ("ge65", {"q-range", "q-focus"}), ("le18", {"q-5mg", "q-range"}),
    ("sa65", {"q-focus"}), ("eb10", {"q-5mg"}), ("ne5.4", {"q-range", "q-focus"}),
    ("ap95", {"q-focus"}),
])
def test_prefixes(bed: SearchBed, contexts: None, value: str, expected: set[str]) -> None:
    assert bed.ids("Questionnaire", [("context-quantity", value)]) == expected


def test_units(bed: SearchBed, contexts: None) -> None:
    # [number]|[system]|[code], and ||[code] matching the code or the unit text
    assert bed.ids("Questionnaire", f"context-quantity=5.4|{UCUM}|a") == {"q-5mg"}
    assert bed.ids("Questionnaire", "context-quantity=5.4||a") == {"q-5mg"}
    assert bed.ids("Questionnaire", "context-quantity=5.4||years") == {"q-5mg"}
    assert bed.ids("Questionnaire", "context-quantity=5.4||mg") == set()
    assert bed.ids("Questionnaire", "context-quantity=gt0||years") == {"q-5mg", "q-focus"}


def test_composite_token_quantity(bed: SearchBed, contexts: None) -> None:
    # search.html#composite: both parts on the same useContext
    assert bed.ids("Questionnaire", f"context-type-quantity={USAGE}|age$gt60") == {
        "q-range", "q-focus"}
    assert bed.ids("Questionnaire", "context-type-quantity=focus$gt60") == set()
    assert bed.ids("Questionnaire", "context-type-quantity=age$5.4,age$100") == {
        "q-5mg", "q-focus"}


def test_composite_token_token(bed: SearchBed, contexts: None) -> None:
    assert bed.ids("Questionnaire", "context-type-value=focus$http://snomed.info/sct|840539006"
                   ) == {"q-focus"}
    assert bed.ids("Questionnaire", "context-type-value=age$840539006") == set()


@pytest.mark.parametrize("value", ["abc", "5.4|a", "zz5", "5$3", "1e9999999"])
def test_malformed(bed: SearchBed, contexts: None, value: str) -> None:
    with pytest.raises(InvalidRequest):
        bed.ids("Questionnaire", [("context-quantity", value)])
