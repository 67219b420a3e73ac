"""FHIR date/dateTime/instant ranges (FHIR R4 datatypes.html#dateTime, search.html#date)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fhir_server.errors import InvalidRequest
from fhir_server.fhirdates import date_range


@pytest.mark.parametrize(("value", "low", "high"), [
    ("2021", datetime(2021, 1, 1, tzinfo=UTC), datetime(2022, 1, 1, tzinfo=UTC)),
    ("2021-12", datetime(2021, 12, 1, tzinfo=UTC), datetime(2022, 1, 1, tzinfo=UTC)),
    ("2021-02-28", datetime(2021, 2, 28, tzinfo=UTC), datetime(2021, 3, 1, tzinfo=UTC)),
    ("2021-08-02T09:15:00+07:00", datetime(2021, 8, 2, 2, 15, tzinfo=UTC),
     datetime(2021, 8, 2, 2, 15, 1, tzinfo=UTC)),
    ("2021-08-02T09:15Z", datetime(2021, 8, 2, 9, 15, tzinfo=UTC),
     datetime(2021, 8, 2, 9, 16, tzinfo=UTC)),
    ("2021-08-02T09:15:00.123Z", datetime(2021, 8, 2, 9, 15, 0, 123000, tzinfo=UTC),
     datetime(2021, 8, 2, 9, 15, 0, 124000, tzinfo=UTC)),
])
def test_precision_ranges(value: str, low: datetime, high: datetime) -> None:
    assert date_range(value) == (low, high)


@pytest.mark.parametrize("value", ["2021-13", "2021-02-30", "yesterday", "21", "2021-1-1",
                                   "2021-08-02T25:00:00Z", "", "2021-08-02T09:15:00+07"])
def test_invalid_dates(value: str) -> None:
    with pytest.raises(InvalidRequest):
        date_range(value, "_since")
