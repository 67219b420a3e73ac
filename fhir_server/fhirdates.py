"""FHIR date/dateTime/instant values as half-open UTC ranges [low, high)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fhir_server.errors import InvalidRequest

_DATE_TIME = re.compile(
    r"(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,9}))?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?")


def _add_months(moment: datetime, months: int) -> datetime:
    total = moment.month - 1 + months
    return moment.replace(year=moment.year + total // 12, month=total % 12 + 1)


def date_range(value: str, expression: str = "date") -> tuple[datetime, datetime]:
    """Parse a FHIR date/dateTime/instant into the UTC range [low, high) its precision implies."""
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
        return low, _add_months(low, 1)
    return low, low.replace(year=low.year + 1)


def parse_instant(value: str, expression: str = "_since") -> datetime:
    """The start of a FHIR date/dateTime/instant value (UTC)."""
    return date_range(value, expression)[0]
