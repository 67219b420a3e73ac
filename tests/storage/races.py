"""Run the same call on many threads released together (for atomicity tests of the stores)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
THREADS = 16


def race(work: Callable[[int], T], count: int = THREADS) -> list[T]:
    """`work(n)` for n in range(count), on `count` threads that start at the same moment."""
    start = threading.Barrier(count)

    def run(n: int) -> T:
        start.wait()
        return work(n)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))
