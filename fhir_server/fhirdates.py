"""FHIR date/dateTime/instant values as half-open UTC ranges [low, high)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from fhir_server.errors import InvalidRequest

_DATE_TIME = re.compile(
    r"(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,9}))?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?")


_MINUTE, _SECOND, _DAY = timedelta(minutes=1), timedelta(seconds=1), timedelta(days=1)
_FRACTION_STEPS = tuple(timedelta(microseconds=10 ** max(0, 6 - digits)) for digits in range(10))


START, END = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)


def _add_months(moment: datetime, months: int) -> datetime:
    total = moment.month - 1 + months
    if moment.year + total // 12 > END.year:
        return END
    return moment.replace(year=moment.year + total // 12, month=total % 12 + 1)


def _plus(moment: datetime, step: timedelta) -> datetime:
    """moment + step, held inside the calendar (year 1 to 9999)."""
    try:
        return moment + step
    except OverflowError:
        return END if step > timedelta(0) else START


@lru_cache(maxsize=256)
def _offset(tz: str) -> timedelta:
    """The UTC offset a FHIR time zone (Z, +hh:mm or -hh:mm) stands for."""
    if tz == "Z":
        return timedelta(0)
    return (1 if tz[0] == "+" else -1) * timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))


def date_range(value: str, expression: str = "date") -> tuple[datetime, datetime]:
    """Parse a FHIR date/dateTime/instant into the UTC range [low, high) its precision implies."""
    match = _DATE_TIME.fullmatch(value.strip())
    if match is None:
        raise InvalidRequest.at(f"Invalid date/time value '{value[:64]}'", expression, "value")
    year, month, day, hour, minute, second, fraction, tz = match.groups()
    try:
        if hour is not None:
            micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
            low = datetime(int(year), int(month), int(day), int(hour), int(minute),
                           int(second or 0), micro, tzinfo=UTC)
            if tz is not None and tz != "Z":
                low = _plus(low, -_offset(tz))
            step = _MINUTE if second is None else _SECOND if fraction is None else \
                _FRACTION_STEPS[len(fraction)]
            return low, _plus(low, step)
        low = datetime(int(year), int(month or 1), int(day or 1), tzinfo=UTC)
    except ValueError as exc:
        raise InvalidRequest.at(f"Invalid date/time value '{value[:64]}': {exc}", expression,
                                "value") from None
    if day is not None:
        return low, _plus(low, _DAY)
    return low, _add_months(low, 1 if month is not None else 12)


def parse_instant(value: str, expression: str = "_since") -> datetime:
    """The start of a FHIR date/dateTime/instant value (UTC)."""
    return date_range(value, expression)[0]
