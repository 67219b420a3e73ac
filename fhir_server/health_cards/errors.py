"""Errors raised by the health-card pipeline, all members of the server's FhirError family."""

from __future__ import annotations

from fhir_server.errors import InvalidRequest, PayloadTooLarge, Unprocessable


class NoCompletedImmunization(Unprocessable):
    """422: the patient has no completed immunization, so there is nothing to put on a card."""


class CardTooLarge(PayloadTooLarge):
    """413: even a single-dose card does not fit in one QR code (JWS > 1195 characters)."""


class CardDecodeError(InvalidRequest):
    """400: the input cannot be decoded as a health card (the message says why)."""


class KeyStoreError(Unprocessable):
    """422: the issuer key store cannot do what was asked (no active key, bad directory...)."""


class KeySetError(InvalidRequest):
    """400: a JWK set (trusted issuer keys) is malformed or violates the key rules."""


class CrlError(InvalidRequest):
    """400: a card revocation list violates the spec's CRL rules."""
