"""Text normalisation for terminology filters: case- and accent-insensitive matching."""

from __future__ import annotations

import unicodedata

_EXTRA = str.maketrans({"đ": "d", "Đ": "d"})


def fold(text: str) -> str:
    """Lower-case, strip accents (đ -> d) and collapse spaces: 'Hà  Nội' -> 'ha noi'."""
    decomposed = unicodedata.normalize("NFD", text.translate(_EXTRA))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def matches(needle: str, haystack: str) -> bool:
    """True if folded `needle` occurs in folded `haystack`, with or without spaces."""
    n, h = fold(needle), fold(haystack)
    return n in h or n.replace(" ", "") in h.replace(" ", "")
