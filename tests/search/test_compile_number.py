"""Number search (search.html#number) against the real database.

No parameter of our types is of type number in R4 (Patient.age has no expression), so a
parameter is defined here and its entries stored as the extractor stores numbers."""

from __future__ import annotations

import pytest

from fhir_server.search.criteria import Context
from fhir_server.search.params import Clause
from fhir_server.search.registry import SearchParam
from fhir_server.search.values import number_values
from fhir_server.storage.query.number import compile_number, implicit_range, parse_number
from fhir_server.storage.query.plan import build_filter
from tests.search.conftest import SearchBed

DOSE = SearchParam("Immunization", "dose", "number", "urn:test:dose", "Immunization.x")


@pytest.fixture(scope="module")
def doses(bed: SearchBed) -> None:
    """Raw documents with number entries built by the real value builder."""
    collection = bed.db["NumberTest"]
    for rid, value in (("n-1", 1), ("n-2", 2), ("n-100", 100), ("n-99.6", 99.6),
                       ("n-0.8", 0.8)):
        entries = number_values([("positiveInt", value)], {}).values
        collection.insert_one({"_id": rid, "idx": {"p": {"dose": entries}}})
    collection.insert_one({"_id": "n-none", "idx": {}})


def ids(bed: SearchBed, *values: str, modifier: str | None = None) -> set[str]:
    clause = Clause("dose", DOSE, modifier, list(values))
    query = build_filter([compile_number(clause)])
    _ = Context("http://x")
    return {doc["_id"] for doc in bed.db["NumberTest"].find(query)}


def test_implicit_precision() -> None:
    assert implicit_range(parse_number("100", "n")) == (99.5, 100.5)
    assert implicit_range(parse_number("100.00", "n")) == (99.995, 100.005)
    assert implicit_range(parse_number("2.0", "n")) == (1.95, 2.05)


def test_eq_and_prefixes(bed: SearchBed, doses: None) -> None:
    assert ids(bed, "100") == {"n-100", "n-99.6"}
    assert ids(bed, "100.0") == {"n-100"}
    assert ids(bed, "gt99.6") == {"n-100"}
    assert ids(bed, "ge99.6") == {"n-100", "n-99.6"}
    assert ids(bed, "lt1") == {"n-0.8"}
    assert ids(bed, "le1") == {"n-0.8", "n-1"}
    assert ids(bed, "sa2") == {"n-100", "n-99.6"}
    assert ids(bed, "eb1") == {"n-0.8"}
    assert ids(bed, "ne2") == {"n-1", "n-100", "n-99.6", "n-0.8"}
    assert ids(bed, "ap100") == {"n-100", "n-99.6"}


def test_or_and_missing(bed: SearchBed, doses: None) -> None:
    assert ids(bed, "1.0", "2.0") == {"n-1", "n-2"}
    assert ids(bed, "1") == {"n-1", "n-0.8"}  # 1 means [0.5, 1.5)
    assert ids(bed, "true", modifier="missing") == {"n-none"}
