"""Passwords: argon2id hashes (argon2-cffi) and a strength rule."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from fhir_server.errors import InvalidRequest

_HASHER = PasswordHasher()  # argon2id with the library's recommended parameters
COMMON = frozenset({"password", "12345678", "123456789", "1234567890", "qwerty123",
                    "11111111", "88888888", "abc12345", "password1", "iloveyou1"})
DUMMY_HASH = _HASHER.hash("timing-equaliser-not-a-password")


def check_strength(password: str, phone: str = "") -> None:
    """At least 8 characters with letters and digits, not common, not the phone number."""
    problems = []
    if len(password) < 8 or len(password) > 128:
        problems.append("8 to 128 characters")
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        problems.append("both letters and digits")
    if password.lower() in COMMON or (phone and phone.lstrip("+")[-9:] in password):
        problems.append("not a common password nor your phone number")
    if problems:
        raise InvalidRequest.at("The password is too weak: it needs " + ", ".join(problems),
                                "password", "value")


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when the password matches (constant work even for unknown accounts)."""
    try:
        return _HASHER.verify(stored_hash or DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
