"""Real processes for the fault tests (issue 16 point 3): `fhir-server serve` (gunicorn) and the
embedded SecantusDB, each killed with SIGKILL sent to its whole process group, so no exit
handler, `finally` or graceful shutdown runs: what survives is what was durable."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import requests

from fhir_server.embedded import EmbeddedStore, free_port

T = TypeVar("T")


def kill_group(process: subprocess.Popen[bytes] | None) -> None:
    """SIGKILL the process and every process of its group (it leads its own session)."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):  # it died just now
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def kill_store(store: EmbeddedStore) -> None:
    """kill -9 the SecantusDB server (its process group), leaving its files as they are."""
    kill_group(store.process)


def wait_for(check: Callable[[], T | None], timeout: float, what: str,
             every: float = 0.2) -> T:
    """Call `check` until it returns something other than None (or False); fail after
    `timeout` seconds naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result is not None and result is not False:
            return result
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(every)


def serve_env(root: Path, mongo_uri: str, database: str, **extra: str) -> dict[str, str]:
    """The environment of a served test instance: open access, no audit, own home."""
    (root / "xdg").mkdir(parents=True, exist_ok=True)
    return {**os.environ, "MONGODB_URI": mongo_uri, "FHIR_DATABASE": database,
            "FHIR_LOAD_CONFORMANCE": "0", "FHIR_HOME": str(root / "home"),
            "FHIR_AUTH_REQUIRED": "0", "FHIR_AUDIT": "off", "FHIR_SMS_RETRY_SECONDS": "0",
            "FHIR_DB_TIMEOUT_MS": "1000", "XDG_RUNTIME_DIR": str(root / "xdg"),
            "HOME": str(root), **extra}


class Served:
    """`fhir-server serve` on a loopback port, started and killed by the test."""

    def __init__(self, env: dict[str, str], log: Path, workers: int = 2,
                 threads: int = 4) -> None:
        self.env, self.log = env, log
        self.port = free_port()
        self.workers, self.threads = workers, threads
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> Served:
        """Start it (same port each time) and wait until /healthz answers."""
        self.env["FHIR_BASE_URL"] = self.base
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fhir_server.cli", "serve", "--host", "127.0.0.1",
             "--port", str(self.port), "--workers", str(self.workers),
             "--threads", str(self.threads)],
            stdout=self.log.open("ab"), stderr=subprocess.STDOUT, env=self.env,
            start_new_session=True)

        def up() -> bool:
            assert self.process is not None and self.process.poll() is None, \
                self.log.read_text(errors="replace")[-3000:]
            try:
                return requests.get(f"{self.base}/healthz", timeout=2).ok
            except requests.RequestException:
                return False

        wait_for(up, timeout, "fhir-server serve to answer /healthz", every=0.3)
        return self

    def kill(self) -> None:
        """kill -9 the gunicorn master and its workers at once."""
        kill_group(self.process)

    def stop(self) -> None:
        """Stop it gracefully (SIGINT), else kill it."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
