"""Start and stop a gunicorn FHIR server process for benchmarks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from fhir_server.embedded import free_port


def start_server(uri: str, log: Path, workers: int = 2, threads: int = 4,
                 **env: str) -> tuple[subprocess.Popen[bytes], int]:
    """A server on a free port using the database at `uri`; waits until it answers."""
    port = free_port()
    environment = {**os.environ, "MONGODB_URI": uri, "FHIR_DATABASE": "bench",
                   "FHIR_LOAD_CONFORMANCE": "0",
                   "FHIR_BASE_URL": f"http://127.0.0.1:{port}", **env}
    process = subprocess.Popen(
        [sys.executable, "-m", "fhir_server.cli", "serve", "--port", str(port),
         "--workers", str(workers), "--threads", str(threads)],
        env=environment, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process, port
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"server exited; see {log}") from None
            time.sleep(0.1)
    stop_server(process)
    raise RuntimeError(f"server did not start; see {log}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Stop gracefully, then kill the process group."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def settle(pid: int, limit: float = 60.0) -> None:
    """Wait until a process is idle (under 5 % of a core for half a second), at most `limit` s."""
    ticks = os.sysconf("SC_CLK_TCK")

    def cpu_seconds() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = cpu_seconds()
        time.sleep(0.5)
        if cpu_seconds() - before < 0.025:
            return


def session_cpu_seconds(session_id: int) -> float:
    """User + system CPU seconds used so far by every live process of one session (a server
    started with start_new_session: gunicorn's master and workers, or the database), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session_id:  # field 6 (session) after the pid and (comm)
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick

