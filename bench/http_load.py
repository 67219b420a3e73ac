"""A small closed-loop load generator: threads, each with its own keep-alive connection; a
fixed number of requests (run_load, run_threads) or a fixed time (run_for)."""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

Request = Callable[[int], tuple[str, str, bytes | None, dict[str, str]]]


@dataclass
class LoadResult:
    """Throughput and latency of one load run."""

    requests: int
    seconds: float
    errors: int
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        """A latency percentile in milliseconds."""
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def _drive(take: Callable[[], int | None], work: Callable[[int], bool], clients: int
           ) -> LoadResult:
    """Call work(take()) from `clients` threads until take() gives None; work returns False for
    an error, and an exception counts as one."""
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]

    def worker() -> None:
        mine: list[float] = []
        failed = 0
        while True:
            with lock:
                number = take()
            if number is None:
                break
            started = time.perf_counter()
            try:
                failed += 0 if work(number) else 1
            except Exception:  # noqa: BLE001 - a failed request is a figure, not a crash
                failed += 1
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return LoadResult(len(latencies), time.perf_counter() - started, errors[0], latencies)


def run_threads(work: Callable[[int], bool], total: int, clients: int) -> LoadResult:
    """Run work(0..total-1) from `clients` threads; work returns False for an error."""
    counter = iter(range(total))
    return _drive(lambda: next(counter, None), work, clients)


def run_for(work: Callable[[int], bool], seconds: float, clients: int) -> LoadResult:
    """Call work(0, 1, ...) from `clients` threads in a closed loop for about `seconds`."""
    numbers = itertools.count()
    deadline = time.perf_counter() + seconds
    return _drive(lambda: next(numbers) if time.perf_counter() < deadline else None, work,
                  clients)


def http_sender(host: str, port: int, make_request: Request, expect: int | None = 200,
                failures: Counter[str] | None = None, timeout: float = 30) -> Callable[[int], bool]:
    """work(n) for the runners: send make_request(n) on this thread's keep-alive connection
    (reconnecting after a failure); True when the status is `expect` (any 2xx when None).
    Failures are counted by status (or exception name) in `failures`."""
    local = threading.local()

    def send(number: int) -> bool:
        if getattr(local, "connection", None) is None:
            local.connection = http.client.HTTPConnection(host, port, timeout=timeout)
        method, path, body, headers = make_request(number)
        try:
            local.connection.request(method, path, body=body, headers=headers)
            response = local.connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as error:
            local.connection.close()
            local.connection = None
            if failures is not None:
                failures[type(error).__name__] += 1
            raise
        ok = (200 <= response.status < 300) if expect is None else response.status == expect
        if not ok and failures is not None:
            failures[str(response.status)] += 1
        return ok

    return send


def run_load(host: str, port: int, make_request: Request, total: int,
             clients: int, expect: int = 200) -> LoadResult:
    """Send `total` HTTP requests from `clients` threads over keep-alive connections."""
    return run_threads(http_sender(host, port, make_request, expect), total, clients)
