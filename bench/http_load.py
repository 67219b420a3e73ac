"""A small closed-loop load generator: threads, each with its own keep-alive connection."""

from __future__ import annotations

import http.client
import threading
import time
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


def run_threads(work: Callable[[int], bool], total: int, clients: int) -> LoadResult:
    """Run work(0..total-1) from `clients` threads; work returns False for an error."""
    counter = iter(range(total))
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]

    def worker() -> None:
        mine: list[float] = []
        failed = 0
        while True:
            with lock:
                number = next(counter, None)
            if number is None:
                break
            started = time.perf_counter()
            failed += 0 if work(number) else 1
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
    return LoadResult(total, time.perf_counter() - started, errors[0], latencies)


def run_load(host: str, port: int, make_request: Request, total: int,
             clients: int, expect: int = 200) -> LoadResult:
    """Send `total` HTTP requests from `clients` threads over keep-alive connections."""
    local = threading.local()

    def send(number: int) -> bool:
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection(host, port, timeout=30)
        method, path, body, headers = make_request(number)
        local.connection.request(method, path, body=body, headers=headers)
        response = local.connection.getresponse()
        response.read()
        return response.status == expect

    return run_threads(send, total, clients)
