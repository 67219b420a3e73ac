"""Normalisation shared by extraction and queries (search.html#string, #token, #date)."""

from __future__ import annotations

from fhir_server.search.normalize import (
    SEP,
    fhir_range,
    index_key,
    index_keys,
    norm_string,
    of_type_key,
    search_bucket,
    token_keys,
)


def test_strings_fold_case_accents_and_vietnamese_d() -> None:
    assert norm_string("Nguyễn Văn  An") == "nguyen van an"
    assert norm_string("ĐẶNG Thị Đào") == "dang thi dao"
    assert norm_string("  Müller\tß ") == "muller ss"


def test_token_keys() -> None:
    assert token_keys("urn:x", "1") == ["1", f"urn:x{SEP}1", f"urn:x{SEP}\x1e"]
    assert token_keys(None, "1") == ["1", f"{SEP}1"]


def test_the_shared_index_holds_a_token_by_its_code_alone() -> None:
    # search.html#token: code, system|code, |code and :of-type all name the code; system|
    # (any code of the system) has no index key
    assert index_key("1") == "1"
    assert index_key(f"urn:x{SEP}1") == "1"
    assert index_key(f"{SEP}1") == "1"
    assert index_key(of_type_key("urn:t", "MR", "42")) == "42"
    assert index_key(f"urn:x{SEP}\x1e") is None
    assert index_keys(token_keys("urn:x", "1") + token_keys(None, "1")) == ["1"]


def test_date_ranges_and_buckets() -> None:
    low, high = fhir_range("2021-05-01T10:00:00+07:00") or (None, None)
    assert low is not None and high is not None
    assert low.isoformat() == "2021-05-01T03:00:00+00:00"
    assert search_bucket("2021-05") == "D2021-05"
    assert search_bucket("2021-05-01T10:00+07:00") == "D2021-05-01T03:00"
    assert search_bucket("2021-05-01T10:00:00.5Z") is None
    assert fhir_range("not a date") is None
