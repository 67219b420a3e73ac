"""Progressive login delay per (account, address): 5 tries, then waits that double (1-15 min).

A try is claimed atomically *before* the password is checked, so N parallel attempts check at
most `FREE_TRIES` passwords. The counter is per address: failures from one address never slow
down the same account from another address (no cheap lockout of a stranger).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from fhir_server.errors import TooManyRequests

BACKOFF = "_login_backoff"
FREE_TRIES = 5
FIRST_DELAY = 60
MAX_DELAY = 900
KEEP = timedelta(days=1)  # a quiet day forgets the stage
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def delay_seconds(stage: int) -> int:
    """The wait after the tries of a stage: 60 s, 120 s, 240 s, 480 s, then 900 s."""
    return min(MAX_DELAY, FIRST_DELAY * 2 ** min(stage, 10))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class LoginBackoff:
    """Tries per (subject, address): `claim` before checking, `release` after a success."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.collection = db[BACKOFF]
        self.clock = clock
        self.collection.create_index("expires", expireAfterSeconds=0)
        self.collection.create_index("subject")

    def claim(self, subject: str, address: str | None) -> None:
        """Take one try for (subject, address), or raise 429 with Retry-After."""
        key, now = f"{subject}|{address}", self.clock()
        with suppress(DuplicateKeyError):  # a parallel attempt created it
            self.collection.update_one({"_id": key}, {"$setOnInsert": {
                "subject": subject, "n": 0, "stage": 0, "until": EPOCH}}, upsert=True)
        free = {"_id": key, "until": {"$lte": now}}
        if self.collection.find_one_and_update(
                {**free, "n": {"$lt": FREE_TRIES - 1}},
                {"$inc": {"n": 1}, "$set": {"expires": now + KEEP}},
                return_document=ReturnDocument.AFTER) is not None:
            return
        doc = self.collection.find_one({"_id": key}) or {}
        stage = int(doc.get("stage", 0))
        if self.collection.update_one(  # the last try starts the wait, whatever it gives
                {**free, "n": FREE_TRIES - 1, "stage": stage},
                {"$set": {"n": 0, "until": now + timedelta(seconds=delay_seconds(stage)),
                          "expires": now + KEEP}, "$inc": {"stage": 1}}).modified_count == 1:
            return
        raise self._blocked(self.collection.find_one({"_id": key}) or doc, now)

    def _blocked(self, doc: dict[str, Any], now: datetime) -> TooManyRequests:
        until = _aware(doc.get("until") or now)
        retry = max(1, math.ceil((until - now).total_seconds()))
        error = TooManyRequests("Too many failed logins: try again later or reset the password")
        error.headers = {"Retry-After": str(retry)}
        return error

    def release(self, subject: str, address: str | None) -> None:
        """A success from this address: its tries and stage start again."""
        self.collection.delete_one({"_id": f"{subject}|{address}"})

    def forget(self, subject: str) -> None:
        """Every address starts again (the password was reset)."""
        self.collection.delete_many({"subject": subject})
