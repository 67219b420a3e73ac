"""fhir_server: a FHIR R4 health-record server for the vaccination campaign."""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from flask import Flask

    from fhir_server.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """The app factory: wire settings, storage, search and the REST layer."""
    from fhir_server.app import build_app

    return build_app(settings)
