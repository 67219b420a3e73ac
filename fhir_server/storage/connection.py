"""The MongoDB connection, made through mongoengine (the only setting is the URI)."""

from __future__ import annotations

import mongoengine
from pymongo.database import Database

ALIAS = "fhir"


def connect(uri: str, database: str, alias: str = ALIAS) -> Database:
    """Open (or reuse) the mongoengine connection for this URI and return its database."""
    mongoengine.disconnect(alias=alias)
    mongoengine.connect(db=database, host=uri, alias=alias, tz_aware=True,
                        uuidRepresentation="standard", serverSelectionTimeoutMS=10_000,
                        connect=False)
    return mongoengine.get_db(alias=alias)


def disconnect(alias: str = ALIAS) -> None:
    """Close the connection."""
    mongoengine.disconnect(alias=alias)
