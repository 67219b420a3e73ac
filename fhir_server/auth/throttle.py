"""Fixed-window counters in MongoDB (shared by every worker): throttling and lockouts."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta

from pymongo import ReturnDocument
from pymongo.database import Database

from fhir_server.errors import TooManyRequests

THROTTLE = "_throttle"


class Throttle:
    """Counts events per key and window; raises 429 past the limit."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.collection = db[THROTTLE]
        self.clock = clock
        self.collection.create_index("expires", expireAfterSeconds=0)

    def hit(self, key: str, limit: int, window_seconds: int, what: str) -> int:
        """Count one event; 429 (with Retry-After) when more than `limit` in the window."""
        now = self.clock()
        window = math.floor(now.timestamp() / window_seconds)
        ends = datetime.fromtimestamp((window + 1) * window_seconds, now.tzinfo)
        doc = self.collection.find_one_and_update(
            {"_id": f"{key}@{window_seconds}:{window}"},
            {"$inc": {"n": 1}, "$setOnInsert": {"expires": ends + timedelta(seconds=5)}},
            upsert=True, return_document=ReturnDocument.AFTER)
        count = int((doc or {}).get("n", 1))
        if count > limit:
            retry = max(1, int((ends - now).total_seconds()))
            error = TooManyRequests(f"Too many {what}: try again in {retry} seconds")
            error.headers = {"Retry-After": str(retry)}
            raise error
        return count
