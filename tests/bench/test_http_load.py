"""bench/http_load.py: the closed-loop runners and the HTTP sender the load test uses (issue 16
point 7: throughput, latency percentiles and errors per concurrency level), against a tiny HTTP
server on loopback."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.http_load import LoadResult, http_sender, run_for, run_load, run_threads
from fhir_server.embedded import free_port


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the load generator expects

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        status = 500 if self.path == "/fail" else 200
        body = b'{"ok": true}'
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture()
def port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_run_for_stops_after_its_time_and_counts_errors() -> None:
    started = time.perf_counter()
    result = run_for(lambda n: n % 3 != 0, 0.3, 4)
    assert 0.3 <= time.perf_counter() - started < 2
    assert result.requests == len(result.latencies_ms) > 30
    assert result.errors == len([n for n in range(result.requests) if n % 3 == 0])


def test_an_exception_is_an_error_not_a_crash() -> None:
    def work(number: int) -> bool:
        if number % 2:
            raise ValueError("refused")
        return True

    result = run_threads(work, 10, 3)
    assert (result.requests, result.errors) == (10, 5)


def test_percentiles_and_rate() -> None:
    result = LoadResult(100, 2.0, 0, [float(n) for n in range(100, 0, -1)])
    assert (result.rate, result.percentile(0.5), result.percentile(0.99)) == (50.0, 51.0, 100.0)
    assert LoadResult(0, 0.0, 0, []).percentile(0.5) == 0.0


def test_sender_counts_failures_by_status_over_keep_alive(port: int) -> None:
    failures: Counter[str] = Counter()
    send = http_sender("127.0.0.1", port, lambda n: (
        "GET", "/fail" if n % 4 == 0 else "/ok", None, {}), None, failures)
    result = run_threads(send, 40, 2)
    assert (result.requests, result.errors) == (40, 10)
    assert failures == Counter({"500": 10})
    assert run_load("127.0.0.1", port, lambda n: ("GET", "/ok", None, {}), 20, 2).errors == 0


def test_a_refused_connection_is_counted() -> None:
    failures: Counter[str] = Counter()
    send = http_sender("127.0.0.1", free_port(), lambda n: ("GET", "/", None, {}), 200,
                       failures, timeout=2)
    result = run_threads(send, 3, 1)
    assert result.errors == 3
    assert failures == Counter({"ConnectionRefusedError": 3})
