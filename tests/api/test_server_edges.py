"""Edges outside the Flask app: gunicorn's own errors (issue 12 point 10), the control socket
(12c), and ids that are path segments (12b). The real `fhir-server serve` runs on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient
from pymongo import MongoClient

from fhir_server.embedded import free_port


@pytest.fixture(scope="module")
def served(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[int, Path]]:
    """`fhir-server serve` (one worker) on a free loopback port; (port, its runtime dir)."""
    root = tmp_path_factory.mktemp("served")
    database, port = f"edges_{uuid.uuid4().hex[:8]}", free_port()
    (root / "xdg").mkdir()
    env = {**os.environ, "MONGODB_URI": mongo_uri, "FHIR_DATABASE": database,
           "FHIR_LOAD_CONFORMANCE": "0", "FHIR_HOME": str(root / "home"),
           "FHIR_SMS_RETRY_SECONDS": "0", "XDG_RUNTIME_DIR": str(root / "xdg"),
           "HOME": str(root)}
    log = root / "serve.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "fhir_server.cli", "serve", "--host", "127.0.0.1", "--port",
         str(port), "--workers", "1", "--threads", "2"],
        stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        yield port, root
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        with MongoClient(mongo_uri) as client:
            client.drop_database(database)


def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read the whole answer: (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


@pytest.mark.parametrize(("name", "request_bytes", "status"), [
    ("NUL in a header", b"GET /metadata HTTP/1.1\r\nHost: a\r\nX-Bad: a\x00b\r\n\r\n", 400),
    ("request line too long", b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
    ("too many headers", b"GET /metadata HTTP/1.1\r\nHost: a\r\n"
     + b"".join(b"X-H%d: v\r\n" % n for n in range(150)) + b"\r\n", 431),
    ("header field too large", b"GET /metadata HTTP/1.1\r\nHost: a\r\nX-Big: "
     + b"v" * 9000 + b"\r\n\r\n", 431),
    ("garbage request line", b"\x16\x03\x01 nonsense\r\n\r\n", 400),
])
def test_gunicorn_errors_are_operation_outcomes(served: tuple[int, Path], name: str,
                                                request_bytes: bytes, status: int) -> None:
    """Issue 12 point 10: errors gunicorn answers itself are OperationOutcome JSON, not HTML."""
    got, headers, body = _raw(served[0], request_bytes)
    assert got == status, name
    assert headers["content-type"].startswith("application/fhir+json"), name
    outcome = json.loads(body)
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["severity"] == "error" and outcome["issue"][0]["diagnostics"]


def test_app_errors_still_answered_by_the_app(served: tuple[int, Path]) -> None:
    """A request gunicorn accepts reaches the app: its 404 is the app's OperationOutcome."""
    got, headers, body = _raw(served[0], b"GET /Nope HTTP/1.1\r\nHost: a\r\n"
                                         b"Connection: close\r\n\r\n")
    assert got == 404 and json.loads(body)["issue"][0]["code"] == "not-found"


def test_no_shared_control_socket(served: tuple[int, Path]) -> None:
    """Issue 12 point 12c: no gunicorn.ctl at the per-user default path every instance shares."""
    _, root = served
    assert list((root / "xdg").iterdir()) == []
    assert not (root / ".gunicorn").exists()


@pytest.mark.parametrize("resource_id", [".", ".."])
def test_dot_ids_refused(client: FlaskClient, resource_id: str) -> None:
    """Issue 12 point 12b: ids '.' and '..' match the FHIR id regex but are path segments: 400."""
    put = client.put(f"/Patient/{resource_id}", json={"resourceType": "Patient",
                                                      "id": resource_id})
    assert put.status_code == 400
    assert put.get_json()["issue"][0]["code"] == "value"
    assert client.get(f"/Patient/{resource_id}").status_code in (400, 404)
    entry = {"resource": {"resourceType": "Patient", "id": resource_id},
             "request": {"method": "PUT", "url": f"Patient/{resource_id}"}}
    batch = client.post("/", json={"resourceType": "Bundle", "type": "batch", "entry": [entry]})
    assert batch.status_code == 200
    assert batch.get_json()["entry"][0]["response"]["status"].startswith("400")
