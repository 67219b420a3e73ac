"""Passwords (argon2id, strength rule) and phone numbers (E.164 via phonenumbers)."""

from __future__ import annotations

import pytest

from fhir_server.auth.passwords import check_strength, hash_password, verify_password
from fhir_server.auth.phones import national_form, normalise_phone
from fhir_server.errors import InvalidRequest


def test_argon2id_hashes() -> None:
    stored = hash_password("Lotus2021vn")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "Lotus2021vn")
    assert not verify_password(stored, "lotus2021vn")
    assert not verify_password(None, "Lotus2021vn")


@pytest.mark.parametrize("weak", ["short1", "onlyletters", "1234567890", "password1",
                                  "abc912345678"])
def test_weak_passwords(weak: str) -> None:
    with pytest.raises(InvalidRequest):
        check_strength(weak, "+84912345678")


def test_vietnamese_numbers() -> None:
    assert normalise_phone("0912345678") == "+84912345678"
    assert normalise_phone("+84 912 345 678") == "+84912345678"
    assert national_form("+84912345678") == "0912345678"
    for bad in ("12345", "09123", "abc", "+1 555 0100"):
        with pytest.raises(InvalidRequest):
            normalise_phone(bad)
