"""JSON numbers with a fraction or exponent, kept in their original lexical form.

FHIR R4 datatypes.html#decimal: "the precision of the decimal value has significance" (0.50 is
not 0.5), and json.html#primitive: decimals are JSON numbers. A `Decimal` is a float (so search
extraction, validation and FHIRPath work unchanged) that remembers the text it was parsed from;
jsonio.dumps writes that text back verbatim and storage keeps it as a BSON Decimal128.
"""

from __future__ import annotations

from typing import Any


class Decimal(float):
    """A float that remembers its JSON text: `Decimal("0.50").text == "0.50"`."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> Decimal:
        """Parse `text` (a JSON number token) and keep it."""
        number = float.__new__(cls, text)
        number.text = text
        return number

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        """Pickle and copy by text."""
        return (Decimal, (self.text,))

    def __copy__(self) -> Decimal:
        """Immutable: a copy is itself."""
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Decimal:
        """Immutable: a copy is itself."""
        return self
