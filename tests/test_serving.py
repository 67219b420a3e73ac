"""fhir_server/serving.py: FhirWorker keeps a keep-alive connection on its thread while requests
follow each other (issue 17 point 1), and still serves a connection that comes back after a
pause through gunicorn's poller (RFC 9112 section 9.3, persistent connections)."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from bench.servers import stop_server, wait_answering
from fhir_server.embedded import free_port
from fhir_server.serving import (
    LINGER_SECONDS,
    FhirWorker,
    SettledConfig,
    next_request_waiting,
)

ROOT = Path(__file__).resolve().parents[1]
REQUEST = b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"


def _conn(sock: socket.socket, buffered: bytes = b"", http2: bool = False) -> SimpleNamespace:
    parser = SimpleNamespace(unreader=SimpleNamespace(buf=io.BytesIO(buffered)))
    return SimpleNamespace(parser=parser, sock=sock, is_http2=http2)


def test_next_request_waiting_sees_the_bytes_on_the_socket() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        started = time.monotonic()
        assert not next_request_waiting(_conn(ours))
        assert time.monotonic() - started >= LINGER_SECONDS * 0.9  # it waited, briefly
        theirs.sendall(REQUEST)
        assert next_request_waiting(_conn(ours))


def test_next_request_waiting_sees_bytes_read_ahead_and_never_holds_http2() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        assert next_request_waiting(_conn(ours, buffered=REQUEST))
        theirs.sendall(REQUEST)
        assert not next_request_waiting(_conn(ours, http2=True))
        ours.close()
        assert not next_request_waiting(_conn(ours))  # closed meanwhile: back to gunicorn


@pytest.fixture(scope="module")
def worker_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """gunicorn with FhirWorker (1 worker, 2 threads) serving bench/bare_app.py."""
    port, log = free_port(), tmp_path_factory.mktemp("worker") / "gunicorn.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-k", "fhir_server.serving.FhirWorker", "-w", "1",
         "--threads", "2", "--no-control-socket", "-b", f"127.0.0.1:{port}",
         "bench.bare_app:app"], cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True)
    try:
        wait_answering(process, port, log, seconds=30)
        yield port
    finally:
        stop_server(process)


def _answers(sock: socket.socket, count: int) -> list[bytes]:
    """Read `count` complete /healthz answers (each with a Content-Length body)."""
    data, answers = b"", []
    while len(answers) < count:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {len(answers)} answers"
        data += chunk
        while b"\r\n\r\n" in data:
            head, _, rest = data.partition(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            if len(rest) < length:
                break
            answers.append(head.split(b"\r\n")[0] + b" " + rest[:length])
            data = rest[length:]
    return answers


def test_one_connection_serves_requests_in_a_row_after_a_pause_and_pipelined(
        worker_port: int) -> None:
    with socket.create_connection(("127.0.0.1", worker_port), timeout=10) as sock:
        for _ in range(20):  # one after another: the thread keeps the connection
            sock.sendall(REQUEST)
            assert _answers(sock, 1) == [b'HTTP/1.1 200 OK {"status":"ok"}\n']
        time.sleep(LINGER_SECONDS * 50)  # longer than the linger: back to the poller
        sock.sendall(REQUEST)
        assert _answers(sock, 1)[0].startswith(b"HTTP/1.1 200")
        sock.sendall(REQUEST * 3)  # pipelined
        assert [answer[:12] for answer in _answers(sock, 3)] == [b"HTTP/1.1 200"] * 3


def test_a_lingering_connection_does_not_starve_a_new_one(worker_port: int) -> None:
    """Two threads, three connections: the idle ones go back to the poller, so a third
    client is served at once."""
    first = socket.create_connection(("127.0.0.1", worker_port), timeout=10)
    second = socket.create_connection(("127.0.0.1", worker_port), timeout=10)
    with first, second:
        for sock in (first, second):
            sock.sendall(REQUEST)
            assert _answers(sock, 1)[0].startswith(b"HTTP/1.1 200")
        with socket.create_connection(("127.0.0.1", worker_port), timeout=10) as third:
            started = time.monotonic()
            third.sendall(REQUEST)
            assert _answers(third, 1)[0].startswith(b"HTTP/1.1 200")
            assert time.monotonic() - started < 5


def test_no_lingering_while_other_connections_wait_for_a_thread() -> None:
    worker = object.__new__(FhirWorker)  # only its thread pool matters here
    release = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:
        worker.tpool = pool
        assert not worker._others_waiting()
        pool.submit(release.wait)  # the one thread is busy
        pool.submit(release.wait)  # and a second connection waits for it
        assert worker._others_waiting()
        release.set()


def test_settled_config_reads_each_setting_once_and_follows_a_set() -> None:
    cfg = Config()
    cfg.set("keepalive", 5)
    settled = SettledConfig(cfg)
    assert settled.keepalive == 5 and settled.limit_request_line == cfg.limit_request_line
    cfg.settings["keepalive"].set(9)  # behind its back: the value read first stays
    assert settled.keepalive == 5
    settled.set("keepalive", 7)  # through it: read again
    assert settled.keepalive == 7 == cfg.keepalive
    with pytest.raises(AttributeError):
        _ = settled.no_such_setting
