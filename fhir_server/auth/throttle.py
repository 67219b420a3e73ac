"""Fixed-window counters shared by every worker (a storage counter per key and window)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta

from fhir_server.errors import TooManyRequests
from fhir_server.storage.counters import WindowCounters


class Throttle:
    """Counts events per key and window; raises 429 past the limit."""

    def __init__(self, counters: WindowCounters, clock: Callable[[], datetime]) -> None:
        self.counters = counters
        self.clock = clock

    def hit(self, key: str, limit: int, window_seconds: int, what: str) -> int:
        """Count one event; 429 (with Retry-After) when more than `limit` in the window."""
        now = self.clock()
        window = math.floor(now.timestamp() / window_seconds)
        ends = datetime.fromtimestamp((window + 1) * window_seconds, now.tzinfo)
        count = self.counters.count_hit(f"{key}@{window_seconds}:{window}",
                                        ends + timedelta(seconds=5))
        if count > limit:
            retry = max(1, int((ends - now).total_seconds()))
            error = TooManyRequests(f"Too many {what}: try again in {retry} seconds")
            error.headers = {"Retry-After": str(retry)}
            raise error
        return count
