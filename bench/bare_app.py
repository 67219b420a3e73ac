"""A bare Flask app under gunicorn gthread (the same workers and threads as `fhir-server serve`):
the reference of issue 17 for the serving stack's cost of a trivial request, measured in the
same run as ours (our /healthz <= 0.4x its server CPU per request with keep-alive)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from flask import Flask

from bench.http_load import run_load
from bench.servers import session_cpu_seconds
from fhir_server.embedded import free_port

app = Flask(__name__)


@app.get("/healthz")
def healthz() -> dict[str, str]:
    """The trivial JSON answer."""
    return {"status": "ok"}


def bare_trivial_cpu(requests: int, log: Path, workers: int = 2, threads: int = 8) -> float:
    """Server CPU µs per GET /healthz of one keep-alive client on the bare app."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", str(workers), "--threads",
         str(threads), "-b", f"127.0.0.1:{port}", "bench.bare_app:app"],
        cwd=Path(__file__).resolve().parents[1], stdout=log.open("wb"),
        stderr=subprocess.STDOUT, start_new_session=True)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(f"the bare app exited; see {log}") from None
                time.sleep(0.1)
        run_load("127.0.0.1", port, lambda n: ("GET", "/healthz", None, {}), 50, 1)  # warm-up
        before = session_cpu_seconds(process.pid)
        result = run_load("127.0.0.1", port, lambda n: ("GET", "/healthz", None, {}),
                          requests, 1)
        used = session_cpu_seconds(process.pid) - before
        if result.errors:
            raise RuntimeError(f"{result.errors} of {requests} requests to the bare app failed")
        return used * 1e6 / requests
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
