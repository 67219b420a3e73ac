"""Is the database there? A ping of a connected database (/readyz) or of a bare URI (a server
process just started, before the application connects)."""

from __future__ import annotations

from typing import Any

from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import PyMongoError


def ping(db: Database[Any]) -> None:
    """Ping the database; raises `storage.errors.DatabaseError` when it does not answer."""
    db.command("ping")


def server_answers(uri: str, timeout_ms: int = 500) -> bool:
    """True when the server at this URI answers a ping within the timeout (own short client)."""
    client: MongoClient[dict[str, Any]]
    try:
        with MongoClient(uri, serverSelectionTimeoutMS=timeout_ms) as client:
            client.admin.command("ping")
    except PyMongoError:
        return False
    return True
