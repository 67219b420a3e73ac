"""Value normalisation as it was before it was memoised and sped up (see reference_indexer.py)."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta

from fhir_server.errors import InvalidRequest
from fhir_server.search.normalize import MAX_DATE, MIN_DATE

BUCKETS = (("year", 4), ("month", 7), ("day", 10), ("minute", 16), ("second", 19))
_FOLD = str.maketrans({"đ": "d", "Đ": "d", "ł": "l", "Ł": "l", "ø": "o", "Ø": "o",
                       "ß": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ı": "i"})
_DATE_TIME = re.compile(
    r"(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,9}))?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?")


def norm_string(value: str) -> str:
    """The original string normalisation."""
    decomposed = unicodedata.normalize("NFKD", value.translate(_FOLD))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())


def date_range(value: str, expression: str = "date") -> tuple[datetime, datetime]:
    """The original FHIR date parser."""
    match = _DATE_TIME.fullmatch(value.strip())
    if match is None:
        raise InvalidRequest.at(f"Invalid date/time value '{value[:64]}'", expression, "value")
    parts = match.groupdict()
    try:
        if parts["H"] is not None:
            tz = parts["tz"] or "Z"
            offset = timedelta(0) if tz == "Z" else (
                (1 if tz[0] == "+" else -1)
                * timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6])))
            fraction = (parts["f"] or "")[:6]
            low = datetime(int(parts["y"]), int(parts["m"]), int(parts["d"]), int(parts["H"]),
                           int(parts["M"]), int(parts["S"] or 0),
                           int(fraction.ljust(6, "0")) if fraction else 0, tzinfo=UTC) - offset
            if parts["S"] is None:
                step = timedelta(minutes=1)
            elif parts["f"] is None:
                step = timedelta(seconds=1)
            else:
                step = timedelta(microseconds=10 ** max(0, 6 - len(parts["f"])))
            return low, low + step
        low = datetime(int(parts["y"]), int(parts["m"] or 1), int(parts["d"] or 1), tzinfo=UTC)
    except ValueError as exc:
        raise InvalidRequest.at(f"Invalid date/time value '{value[:64]}': {exc}", expression,
                                "value") from None
    if parts["d"] is not None:
        return low, low + timedelta(days=1)
    if parts["m"] is not None:
        total = low.month
        return low, low.replace(year=low.year + total // 12, month=total % 12 + 1)
    return low, low.replace(year=low.year + 1)


def ms(moment: datetime) -> datetime:
    """The original millisecond truncation."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=(moment.microsecond // 1000) * 1000)


def fhir_range(value: str) -> tuple[datetime, datetime] | None:
    """The original index range of a date string."""
    try:
        low, high = date_range(value)
    except Exception:  # noqa: BLE001
        return None
    truncated = ms(high)
    return ms(low), truncated if truncated == high.astimezone(UTC) else truncated + timedelta(
        milliseconds=1)


def bucket(moment: datetime, length: int) -> str:
    """The original calendar bucket of a moment."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")[:length]


def bucket_keys(low: datetime, high: datetime) -> list[str]:
    """The original bucket keys of a range."""
    if low <= MIN_DATE or high >= MAX_DATE or high <= low:
        return []
    last = high - timedelta(milliseconds=1)
    return ["D" + bucket(low, length) for _name, length in BUCKETS
            if bucket(low, length) == bucket(last, length)]
