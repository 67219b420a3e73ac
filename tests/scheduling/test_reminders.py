"""`fhir-server reminders` walks the day hour by hour (scheduling/reminders.py); the run itself
over HTTP-made appointments is tested in tests/api/test_notifications.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fhir_server.scheduling.reminders import hours_of
from fhir_server.search.normalize import search_bucket


def test_hours_cover_the_vietnamese_day_in_exact_minute_buckets() -> None:
    """search.html#date: each minute value is an exact calendar bucket, and the 24 x 60 of
    them tile the Vietnamese day (UTC 17:00 the day before to 17:00), each minute once."""
    minutes = [m for hour in hours_of(date(2021, 8, 15)) for m in hour.split(",")]
    buckets = [search_bucket(m) for m in minutes]
    assert len(set(buckets)) == 24 * 60 and all(buckets)
    assert buckets[0] == "D2021-08-14T17:00" and buckets[-1] == "D2021-08-15T16:59"
    first = datetime(2021, 8, 14, 17, 0, tzinfo=UTC)
    assert buckets == [f"D{(first + timedelta(minutes=n)):%Y-%m-%dT%H:%M}"
                       for n in range(24 * 60)]
