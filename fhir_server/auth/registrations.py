"""Pending registrations: one record per request, keyed by its own unguessable id.

A second registration of the same phone never replaces the first: each has its own id, its
own password and its own code (the code's HMAC covers the id). Confirming needs the id that only
the party who chose the password received, plus the code texted to the phone.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fhir_server.errors import InvalidRequest
from fhir_server.storage.auth_records import RegistrationRecords

KEEP = timedelta(minutes=30)  # the code lives 5 minutes; the record a little longer


class PendingRegistrations:
    """Registrations waiting for their SMS code."""

    def __init__(self, records: RegistrationRecords, clock: Callable[[], datetime]) -> None:
        self.records = records
        self.clock = clock

    def add(self, pending: dict[str, Any]) -> str:
        """Keep a new pending registration; returns its id."""
        registration_id = secrets.token_urlsafe(24)
        self.records.insert(registration_id, pending, self.clock() + KEEP)
        return registration_id

    def find(self, registration_id: object) -> dict[str, Any]:
        """The pending registration with this id (400 when unknown or too old)."""
        if not isinstance(registration_id, str) or not 8 <= len(registration_id) <= 64:
            raise InvalidRequest.at("'registration' (the id /auth/register answered) is "
                                    "required", "registration", "required")
        found = self.records.find_live(registration_id, self.clock())
        if found is None:
            raise InvalidRequest.at("No pending registration with this id: register again",
                                    "registration", "not-found")
        return found

    def close(self, phone: str) -> None:
        """Every pending registration of a phone ends (one of them was confirmed)."""
        self.records.delete_for_phone(phone)
