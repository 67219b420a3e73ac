"""String search against the real database (search.html#string): prefix, :exact, :contains."""

from __future__ import annotations

import pytest

from tests.search.conftest import SearchBed


@pytest.fixture(scope="module")
def people(bed: SearchBed) -> None:
    """Vietnamese and other names and addresses."""
    bed.add({"resourceType": "Patient", "id": "str-1",
             "name": [{"family": "Nguyễn", "given": ["Văn", "An"]}],
             "address": [{"line": ["12 Đường Láng"], "city": "Hà Nội", "country": "VN"}]})
    bed.add({"resourceType": "Patient", "id": "str-2",
             "name": [{"family": "Nguyen", "given": ["Thị", "Bình"], "text": "Nguyen Thi Binh"}],
             "address": [{"city": "Đà Nẵng"}]})
    bed.add({"resourceType": "Patient", "id": "str-3",
             "name": [{"family": "Trần", "given": ["Đức"]}, {"family": "Zed", "given": ["Abc"]}]})


def test_prefix_is_case_and_accent_insensitive(bed: SearchBed, people: None) -> None:
    # search.html#string: "nguyen" finds "Nguyễn"
    assert bed.ids("Patient", "family=nguyen") == {"str-1", "str-2"}
    assert bed.ids("Patient", "family=NGUYỄN") == {"str-1", "str-2"}
    assert bed.ids("Patient", "family=ngu") == {"str-1", "str-2"}
    assert bed.ids("Patient", "family=guyen") == set()


def test_vietnamese_d(bed: SearchBed, people: None) -> None:
    # đ/Đ fold to d
    assert bed.ids("Patient", "given=duc") == {"str-3"}
    assert bed.ids("Patient", "address=12 duong") == {"str-1"}
    assert bed.ids("Patient", "address=lang") == set()  # a prefix, not a word search
    assert bed.ids("Patient", "address-city=da nang") == {"str-2"}


def test_name_searches_every_part(bed: SearchBed, people: None) -> None:
    # name covers family, given, prefix, suffix and text
    assert bed.ids("Patient", "name=binh") == {"str-2"}
    assert bed.ids("Patient", "name=nguyen thi") == {"str-2"}
    assert bed.ids("Patient", "name=an") == {"str-1"}


def test_prefix_matches_within_one_value(bed: SearchBed, people: None) -> None:
    # "zed"/"abc" must not combine into a match for "n" (correlated per value)
    assert bed.ids("Patient", "family=n") == {"str-1", "str-2"}


def test_or_and(bed: SearchBed, people: None) -> None:
    assert bed.ids("Patient", "family=tran,nguyen") == {"str-1", "str-2", "str-3"}
    assert bed.ids("Patient", "family=tran&family=zed") == {"str-3"}
    assert bed.ids("Patient", "family=nguyen&given=an") == {"str-1"}


def test_exact(bed: SearchBed, people: None) -> None:
    # search.html#modifiers :exact: case and accents matter, the whole string
    assert bed.ids("Patient", "family:exact=Nguyễn") == {"str-1"}
    assert bed.ids("Patient", "family:exact=Nguyen") == {"str-2"}
    assert bed.ids("Patient", "family:exact=nguyen") == set()
    assert bed.ids("Patient", "family:exact=Nguy") == set()


def test_contains(bed: SearchBed, people: None) -> None:
    # :contains matches anywhere, accent-insensitive
    assert bed.ids("Patient", "family:contains=UYE") == {"str-1", "str-2"}
    assert bed.ids("Patient", "address:contains=nang") == {"str-2"}
    assert bed.ids("Patient", "given:contains=xyz") == set()


def test_missing(bed: SearchBed, people: None) -> None:
    assert bed.ids("Patient", "address:missing=true&family=tran") == {"str-3"}
    assert bed.ids("Patient", "address:missing=false&_id=str-1,str-3") == {"str-1"}


def test_regex_and_operator_looking_values_are_data(bed: SearchBed, people: None) -> None:
    # Bad input: values are data, never operators or patterns
    for value in (".*", "^n", "(a+)+$", '{"$ne": null}', "$where", "[a-z]"):
        assert bed.ids("Patient", [("family", value)]) == set()
        assert bed.ids("Patient", [("family:contains", value)]) == set()
    bed.add({"resourceType": "Patient", "id": "str-re", "name": [{"family": "a.*b"}]})
    assert bed.ids("Patient", [("family", "a.*")]) == {"str-re"}
    assert bed.ids("Patient", [("family:contains", ".*b")]) == {"str-re"}
