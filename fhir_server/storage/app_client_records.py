"""Registered SMART apps (`_app_clients`): public and confidential clients of the
authorization code flow, with their exact redirect URIs and the scopes they may ask for.

Backend Services clients (private_key_jwt, system/ scopes) live apart in `_clients`
(session_records.py). A confidential app's secret is kept as an argon2 hash only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

APP_CLIENTS = "_app_clients"
PUBLIC, CONFIDENTIAL = "public", "confidential"


@dataclass(frozen=True)
class AppClient:
    """A registered app: id, name, public/confidential, redirect URIs, allowed scopes."""

    id: str
    name: str
    kind: str
    redirect_uris: tuple[str, ...]
    scope: str
    secret_hash: str | None = None

    @property
    def confidential(self) -> bool:
        """True for a confidential client (it authenticates at the token endpoint)."""
        return self.kind == CONFIDENTIAL


def _client(doc: dict[str, Any]) -> AppClient:
    return AppClient(str(doc["_id"]), str(doc.get("name", "")), str(doc["kind"]),
                     tuple(doc.get("redirect_uris", [])), str(doc.get("scope", "")),
                     doc.get("secret_hash"))


class AppClientRecords:
    """App clients by id."""

    def __init__(self, db: Database[Any]) -> None:
        self.collection = db[APP_CLIENTS]

    def ensure_indexes(self) -> None:
        """Nothing beyond the `_id` index."""

    def insert(self, client: AppClient) -> bool:
        """Register an app; False when its id is taken already."""
        try:
            self.collection.insert_one({
                "_id": client.id, "name": client.name, "kind": client.kind,
                "redirect_uris": list(client.redirect_uris), "scope": client.scope,
                "secret_hash": client.secret_hash})
        except DuplicateKeyError:
            return False
        return True

    def get(self, client_id: str) -> AppClient | None:
        """An app by id, or None."""
        doc = self.collection.find_one({"_id": client_id})
        return None if doc is None else _client(doc)

    def all(self) -> list[AppClient]:
        """Every registered app, by id."""
        return [_client(doc) for doc in self.collection.find({}).sort("_id", 1)]

    def remove(self, client_id: str) -> bool:
        """Unregister an app; False when there was none."""
        return self.collection.delete_one({"_id": client_id}).deleted_count == 1
