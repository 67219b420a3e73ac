"""The MongoDB connection, made through mongoengine (the only setting is the URI)."""

from __future__ import annotations

import hashlib

import mongoengine
from pymongo.database import Database

_registered: set[str] = set()


def alias_for(uri: str, database: str) -> str:
    """The mongoengine alias of one (URI, database) pair."""
    return "fhir-" + hashlib.sha256(f"{uri}\n{database}".encode()).hexdigest()[:16]


def connect(uri: str, database: str) -> Database:
    """Register (once) the mongoengine connection for this URI and database; return the db."""
    alias = alias_for(uri, database)
    if alias not in _registered:
        mongoengine.connect(db=database, host=uri, alias=alias, tz_aware=True,
                            uuidRepresentation="standard", serverSelectionTimeoutMS=10_000,
                            connect=False)
        _registered.add(alias)
    return mongoengine.get_db(alias=alias)


def disconnect_all() -> None:
    """Close every connection (e.g. in a process about to fork workers)."""
    for alias in list(_registered):
        mongoengine.disconnect(alias=alias)
    _registered.clear()


def disconnect(uri: str, database: str) -> None:
    """Close the connection of this URI and database."""
    alias = alias_for(uri, database)
    mongoengine.disconnect(alias=alias)
    _registered.discard(alias)
