"""Date search against the real database (search.html#date, #prefix): every prefix, periods,
precision ranges, _lastUpdated."""

from __future__ import annotations

import pytest

from tests.search.conftest import SearchBed


@pytest.fixture(scope="module")
def dated(bed: SearchBed) -> None:
    """Birth dates at several precisions and immunizations with date-times."""
    for rid, birth in (("d-day", "2013-01-14"), ("d-month", "2013-01"), ("d-year", "2013"),
                       ("d-later", "2013-03-15"), ("d-early", "2012-12-31")):
        bed.add({"resourceType": "Patient", "id": rid, "birthDate": birth})
    bed.add({"resourceType": "Immunization", "id": "d-imm", "status": "completed",
             "vaccineCode": {"text": "x"}, "patient": {"reference": "Patient/d-day"},
             "occurrenceDateTime": "2013-01-14T10:30:00+07:00"})
    for rid, start, end in (("p-open", "2013-01-21", None), ("p-closed", "2013-01-01",
                                                             "2013-01-21"),
                            ("p-until", None, "2013-01-21"), ("p-after", "2013-03-15", None)):
        period = {k: v for k, v in (("start", start), ("end", end)) if v}
        bed.add({"resourceType": "Flag", "id": rid, "status": "active", "code": {"text": "f"},
                 "subject": {"reference": "Patient/d-day"}, "period": period})


def test_eq_precision(bed: SearchBed, dated: None) -> None:
    # eq: the search range fully contains the target range
    assert bed.ids("Patient", "birthdate=2013-01-14") == {"d-day"}
    assert bed.ids("Patient", "birthdate=eq2013-01") == {"d-day", "d-month"}
    assert bed.ids("Patient", "birthdate=2013") == {"d-day", "d-month", "d-year", "d-later"}
    assert bed.ids("Patient", "birthdate=2013-01-14T00:00:00Z") == set()


def test_ne(bed: SearchBed, dated: None) -> None:
    assert bed.ids("Patient", "birthdate=ne2013-01&_id:not=x") >= {"d-year", "d-later",
                                                                    "d-early"}
    assert "d-day" not in bed.ids("Patient", "birthdate=ne2013-01")


def test_gt_lt_ge_le(bed: SearchBed, dated: None) -> None:
    assert bed.ids("Patient", "birthdate=gt2013-01-14") >= {"d-month", "d-year", "d-later"}
    assert "d-day" not in bed.ids("Patient", "birthdate=gt2013-01-14")
    assert bed.ids("Patient", "birthdate=lt2013-01-14") == {"d-month", "d-year", "d-early"}
    assert bed.ids("Patient", "birthdate=ge2013-01-14") == {"d-day", "d-month", "d-year",
                                                            "d-later"}
    assert bed.ids("Patient", "birthdate=le2013-01-14") == {"d-day", "d-month", "d-year",
                                                            "d-early"}


def test_time_inside_a_day(bed: SearchBed, dated: None) -> None:
    # lt2013-01-14T10:00 matches the day 2013-01-14 (part of it is before 10am)
    assert "d-day" in bed.ids("Patient", "birthdate=lt2013-01-14T10:00Z")
    assert "d-day" in bed.ids("Patient", "birthdate=gt2013-01-14T10:00Z")


def test_sa_eb_periods(bed: SearchBed, dated: None) -> None:
    # sa/eb: the target range starts after / ends before the search range
    assert bed.ids("Flag", "date=sa2013-03-14") == {"p-after"}
    assert bed.ids("Flag", "date=eb2013-03-14") == {"p-closed", "p-until"}
    # ge/le: open periods may include times after/before
    assert bed.ids("Flag", "date=ge2013-03-14") == {"p-open", "p-after"}
    assert bed.ids("Flag", "date=le2013-01-10") == {"p-closed", "p-until"}
    assert bed.ids("Flag", "date=2013-01") == {"p-closed"}


def test_ap(bed: SearchBed, dated: None) -> None:
    # ap: within 10% of the gap between now and the value (years here: all of 2012-2013)
    bed.add({"resourceType": "Patient", "id": "d-far", "birthDate": "1990-06-01"})
    found = bed.ids("Patient", "birthdate=ap2013-01-14")
    assert {"d-day", "d-month", "d-year", "d-later", "d-early"} <= found
    assert "d-far" not in found
    assert "d-far" in bed.ids("Patient", "birthdate=ap1990-05-01")


def test_datetime_with_timezone(bed: SearchBed, dated: None) -> None:
    # 10:30+07:00 is 03:30Z on the same day
    assert bed.ids("Immunization", "date=2013-01-14") == {"d-imm"}
    assert bed.ids("Immunization", "date=2013-01-14T10:30+07:00") == {"d-imm"}
    assert bed.ids("Immunization", "date=2013-01-14T03:30Z") == {"d-imm"}
    assert bed.ids("Immunization", "date=gt2013-01-14T04:00Z") == set()


def test_or_and_range(bed: SearchBed, dated: None) -> None:
    assert bed.ids("Patient", "birthdate=2012,2013-03") == {"d-early", "d-later"}
    assert bed.ids("Patient", "birthdate=ge2013-01-01&birthdate=lt2013-02") == {
        "d-day", "d-month", "d-year"}


def test_missing(bed: SearchBed, dated: None) -> None:
    bed.add({"resourceType": "Patient", "id": "d-none"})
    assert "d-none" in bed.ids("Patient", "birthdate:missing=true")
    assert "d-none" not in bed.ids("Patient", "birthdate:missing=false")


def test_last_updated(bed: SearchBed, dated: None) -> None:
    assert "d-day" in bed.ids("Patient", "_lastUpdated=gt2000-01-01")
    assert bed.ids("Patient", "_lastUpdated=lt2000-01-01") == set()
    assert bed.ids("Patient", "_lastUpdated=le2000&_lastUpdated=ge1999") == set()


@pytest.mark.parametrize("value", ["2013-13-01", "23 May 2009", "xx2013", "2013-01-14T25:00",
                                   "ge", "2013-1-1"])
def test_malformed_dates_are_400(bed: SearchBed, value: str) -> None:
    from fhir_server.errors import InvalidRequest
    with pytest.raises(InvalidRequest):
        bed.ids("Patient", [("birthdate", value)])
