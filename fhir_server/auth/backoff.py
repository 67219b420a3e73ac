"""Progressive login delay per (account, address): 5 tries, then waits that double (1-15 min).

A try is claimed atomically *before* the password is checked, so N parallel attempts check at
most `FREE_TRIES` passwords. The counter is per address: failures from one address never slow
down the same account from another address (no cheap lockout of a stranger).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fhir_server.errors import TooManyRequests
from fhir_server.storage.counters import LoginTries, TryState

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

    def __init__(self, tries: LoginTries, clock: Callable[[], datetime]) -> None:
        self.tries = tries
        self.clock = clock

    def claim(self, subject: str, address: str | None) -> None:
        """Take one try for (subject, address), or raise 429 with Retry-After."""
        key, now = f"{subject}|{address}", self.clock()
        self.tries.ensure(key, subject, EPOCH)
        if self.tries.claim_free_try(key, now, FREE_TRIES - 1, now + KEEP):
            return
        state = self.tries.get(key)
        stage = state.stage if state else 0
        if self.tries.claim_last_try(  # the last try starts the wait, whatever it gives
                key, now, FREE_TRIES - 1, stage,
                now + timedelta(seconds=delay_seconds(stage)), now + KEEP):
            return
        raise self._blocked(self.tries.get(key) or state, now)

    def _blocked(self, state: TryState | None, now: datetime) -> TooManyRequests:
        until = _aware(state.until if state and state.until else now)
        retry = max(1, math.ceil((until - now).total_seconds()))
        error = TooManyRequests("Too many failed logins: try again later or reset the password")
        error.headers = {"Retry-After": str(retry)}
        return error

    def release(self, subject: str, address: str | None) -> None:
        """A success from this address: its tries and stage start again."""
        self.tries.delete(f"{subject}|{address}")

    def forget(self, subject: str) -> None:
        """Every address starts again (the password was reset)."""
        self.tries.delete_subject(subject)
