"""Value normalisation shared by extraction (write time) and compilation (query time).

Strings are compared lower-cased with accents removed (Vietnamese đ -> d too) and whitespace
collapsed; tokens become unambiguous key strings; dates become UTC [low, high) ranges truncated
to the millisecond (what BSON stores).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from fhir_server.fhirdates import date_range

# Separators that cannot occur in FHIR strings (control characters are not allowed there).
SEP = "\x1f"  # system SEP code
ANY_CODE = "\x1e"  # system SEP ANY_CODE: any code in that system ("system|")
OF_TYPE = "\x1d"  # OF_TYPE type-system SEP type-code SEP value (identifier :of-type)
PARAM_SEP = "\x1c"  # param code PARAM_SEP key, in the shared key array idx.k
REF_IDENTIFIER = "\x1b"  # reference :identifier keys in idx.k: PARAM_SEP REF_IDENTIFIER key
STRING_KEY_LENGTH = 100  # string values in idx.k are cut here (prefix hints only)
# every indexed string is cut here, so a huge value cannot multiply the stored document; search
# values are at most this long (params.py), so prefix and exact matches stay exact up to it
MAX_INDEXED_STRING = 2048
TOP = "\U0010ffff"  # sorts after every normalised character
CACHE_SIZE = 8192  # entries kept by each memoised function of strings (values repeat a lot)
CACHED_LENGTH = 256  # longer strings are normalised afresh (they rarely repeat)

MIN_DATE = datetime(1, 1, 1, tzinfo=UTC)
MAX_DATE = datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
ONE_MS = timedelta(milliseconds=1)

_FOLD = str.maketrans({"đ": "d", "Đ": "d", "ł": "l", "Ł": "l", "ø": "o", "Ø": "o",
                       "ß": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ı": "i"})


def norm_string(value: str) -> str:
    """Lower-case, strip accents (NFKD minus combining marks, đ->d) and collapse whitespace."""
    return _norm_cached(value) if len(value) <= CACHED_LENGTH else _norm(value)


def _norm(value: str) -> str:
    """norm_string, uncached."""
    if value.isascii():  # nothing to fold, decompose or strip
        return " ".join(value.lower().split())
    decomposed = unicodedata.normalize("NFKD", value.translate(_FOLD))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())


_norm_cached = lru_cache(maxsize=CACHE_SIZE)(_norm)


def token_keys(system: str | None, code: str) -> list[str]:
    """The keys one (system, code) pair is found by: code, system|code, system|."""
    if system:
        return [code, f"{system}{SEP}{code}", f"{system}{SEP}{ANY_CODE}"]
    return [code, f"{SEP}{code}"]


def index_key(key: str) -> str | None:
    """The shared-index (idx.k) key of a stored token key: the code alone, since `system|code`,
    `|code` and :of-type keys are told apart by the exact values (idx.p) that the query also
    tests; None for `system|` (any code of a system), which has no index key."""
    if ANY_CODE in key:
        return None
    return key.rsplit(SEP, 1)[-1] if SEP in key else key


def index_keys(keys: Iterable[str]) -> list[str]:
    """The distinct shared-index keys of stored token keys (see index_key), in order."""
    found: dict[str, None] = {}
    for key in keys:
        hint = index_key(key)
        if hint is not None:
            found[hint] = None
    return list(found)


def token_key_tuple(system: Any, code: str) -> tuple[str, ...]:
    """The distinct token_keys, memoised for string systems (the usual case)."""
    if system is None or type(system) is str:
        return _distinct_token_keys(system, code)
    return _distinct_token_keys.__wrapped__(system, code)


@lru_cache(maxsize=CACHE_SIZE)
def _distinct_token_keys(system: Any, code: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(token_keys(system, code)))


def token_query_key(value: str) -> str:
    """The key a token search value ([system]|[code], |code, system|, code) looks for."""
    if "|" not in value:
        return value
    system, code = value.split("|", 1)
    if not code:
        return f"{system}{SEP}{ANY_CODE}"
    return f"{system}{SEP}{code}"


def of_type_key(type_system: str, type_code: str, value: str) -> str:
    """The key of an identifier by type and value (token :of-type)."""
    return f"{OF_TYPE}{type_system}{SEP}{type_code}{SEP}{value}"


def shared_key(code: str, key: str) -> str:
    """A value of the shared, indexed key array: the parameter code and its key."""
    return f"{code}{PARAM_SEP}{key}"


def ms(moment: datetime) -> datetime:
    """A UTC datetime truncated to the millisecond (BSON precision)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    micro = moment.microsecond
    return moment if micro % 1000 == 0 else moment.replace(microsecond=micro - micro % 1000)


def ceil_ms(moment: datetime) -> datetime:
    """A UTC datetime rounded up to the millisecond (for exclusive upper bounds); the last
    millisecond of year 9999 stays MAX_DATE (the range is open above)."""
    truncated = ms(moment)
    if truncated == moment.astimezone(UTC) or truncated >= MAX_DATE:
        return truncated
    return truncated + ONE_MS


@lru_cache(maxsize=CACHE_SIZE)
def fhir_range(value: str) -> tuple[datetime, datetime] | None:
    """The [low, high) range of a FHIR date/dateTime/instant, or None when it does not parse."""
    try:
        low, high = date_range(value)
    except Exception:  # noqa: BLE001 - stored data that does not parse is simply not indexed
        return None
    return ms(low), ceil_ms(high)


BUCKETS = (("year", 4), ("month", 7), ("day", 10), ("minute", 16), ("second", 19))


def bucket(moment: datetime, length: int) -> str:
    """The UTC calendar bucket (year ... second) a moment falls in, as a string prefix."""
    moment = moment.astimezone(UTC)
    if moment.year < 1000:  # strftime's %Y is not zero-padded there (isoformat's is)
        return moment.strftime("%Y-%m-%dT%H:%M:%S")[:length]
    return moment.isoformat()[:length]


def search_bucket(value: str) -> str | None:
    """The bucket key of a search date whose precision is a bucket (None for others)."""
    text = value.strip()
    parsed = fhir_range(text)
    if parsed is None:
        return None
    low, high = parsed
    width = high - low
    for _name, length in BUCKETS:
        start = bucket(low, length)
        if bucket(high - ONE_MS, length) != start:
            continue
        if _bucket_width(start, length) == width:
            return "D" + start
    return None


def _bucket_width(start: str, length: int) -> timedelta:
    """The duration of the bucket starting with `start`."""
    low, high = date_range(start if length <= 10 else start + "Z")
    return high - low
