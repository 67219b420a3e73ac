"""The MongoDB connection, made through mongoengine (the only setting is the URI).

Issue 12 point 11: server selection and connecting time out after FHIR_DB_TIMEOUT_MS (2 s by
default, not pymongo's 30 s nor the former 10 s), so a request made while the database is down
gets its 503 + Retry-After quickly instead of stalling.
"""

from __future__ import annotations

import hashlib

import mongoengine
from pymongo.database import Database

from fhir_server.settings import db_timeout_ms
from fhir_server.storage.command_timer import CommandTimer

_registered: set[str] = set()


def alias_for(uri: str, database: str) -> str:
    """The mongoengine alias of one (URI, database) pair."""
    return "fhir-" + hashlib.sha256(f"{uri}\n{database}".encode()).hexdigest()[:16]


def connect(uri: str, database: str, timeout_ms: int | None = None) -> Database:
    """Register (once) the mongoengine connection for this URI and database; return the db."""
    alias = alias_for(uri, database)
    if alias not in _registered:
        timeout = timeout_ms or db_timeout_ms()
        mongoengine.connect(db=database, host=uri, alias=alias, tz_aware=True,
                            uuidRepresentation="standard", serverSelectionTimeoutMS=timeout,
                            connectTimeoutMS=timeout, connect=False,
                            event_listeners=[CommandTimer()])  # database latency metrics
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
