"""Normalisation shared by extraction and queries (search.html#string, #token, #date)."""

from __future__ import annotations

from fhir_server.search.normalize import (
    SEP,
    bucket_keys,
    fhir_range,
    norm_string,
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


def test_date_ranges_and_buckets() -> None:
    low, high = fhir_range("2021-05-01T10:00:00+07:00") or (None, None)
    assert low is not None and high is not None
    assert low.isoformat() == "2021-05-01T03:00:00+00:00"
    assert bucket_keys(low, high) == ["D2021", "D2021-05", "D2021-05-01", "D2021-05-01T03:00",
                                      "D2021-05-01T03:00:00"]
    assert search_bucket("2021-05") == "D2021-05"
    assert search_bucket("2021-05-01T10:00+07:00") == "D2021-05-01T03:00"
    assert search_bucket("2021-05-01T10:00:00.5Z") is None
    assert fhir_range("not a date") is None
