"""Phone numbers normalised to E.164 with `phonenumbers` (Vietnam by default)."""

from __future__ import annotations

import phonenumbers

from fhir_server.errors import InvalidRequest


def normalise_phone(raw: str, region: str = "VN") -> str:
    """'0912345678' or '+84 912 345 678' -> '+84912345678' (400 when not a valid number)."""
    try:
        number = phonenumbers.parse(str(raw)[:32], region)
    except phonenumbers.NumberParseException:
        raise InvalidRequest.at(f"'{str(raw)[:32]}' is not a phone number", "phone",
                                "value") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidRequest.at(f"'{str(raw)[:32]}' is not a valid phone number", "phone",
                                "value")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national_form(e164: str) -> str:
    """'+84912345678' -> '0912345678' (how Vietnamese users write it)."""
    number = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL
                                      ).replace(" ", "")
