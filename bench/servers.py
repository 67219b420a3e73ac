"""Start and stop a FHIR server process for benchmarks: `fhir-server serve` (gunicorn with our
FhirWorker), our app under gunicorn with other settings, or under granian (bench_serving.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from fhir_server.embedded import free_port


def server_command(server: str, port: int, workers: int, threads: int,
                   options: dict[str, Any] | None = None) -> list[str]:
    """The command line of a server choice: `serve` (fhir-server serve), `gunicorn` (our app
    under fhir_server.serving.Server with gunicorn `options` on top) or `granian` (WSGI)."""
    if server == "serve":
        return [sys.executable, "-m", "fhir_server.cli", "serve", "--port", str(port),
                "--workers", str(workers), "--threads", str(threads)]
    if server == "gunicorn":
        settings = {"bind": f"127.0.0.1:{port}", "workers": workers, "threads": threads,
                    "graceful_timeout": 10, **(options or {})}
        return [sys.executable, "-m", "bench.servers", json.dumps(settings)]
    if server == "granian":
        return [str(Path(sys.executable).with_name("granian")), "--interface", "wsgi",
                "--factory", "--workers", str(workers), "--blocking-threads", str(threads),
                "--host", "127.0.0.1", "--port", str(port), "--no-ws", "--log-level", "warning",
                *(options or {}).get("args", []), "fhir_server:create_app"]
    raise ValueError(f"unknown server {server!r}: serve, gunicorn or granian")


def start_server(uri: str, log: Path, workers: int = 2, threads: int = 4,
                 server: str = "serve", options: dict[str, Any] | None = None,
                 **env: str) -> tuple[subprocess.Popen[bytes], int]:
    """A server on a free port using the database at `uri`; waits until it answers."""
    process, port = spawn_server(uri, log, workers, threads, server, options, **env)
    wait_answering(process, port, log)
    return process, port


def spawn_server(uri: str, log: Path, workers: int = 2, threads: int = 4,
                 server: str = "serve", options: dict[str, Any] | None = None,
                 **env: str) -> tuple[subprocess.Popen[bytes], int]:
    """Start a server on a free port using the database at `uri` (not waiting for it)."""
    port = free_port()
    environment = {**os.environ, "MONGODB_URI": uri, "FHIR_DATABASE": "bench",
                   "FHIR_LOAD_CONFORMANCE": "0",
                   "FHIR_BASE_URL": f"http://127.0.0.1:{port}", **env}
    if server == "granian":  # per-process metric files, as under gunicorn
        metrics = log.with_suffix(".metrics")
        metrics.mkdir(exist_ok=True)
        environment.setdefault("PROMETHEUS_MULTIPROC_DIR", str(metrics))
    process = subprocess.Popen(
        server_command(server, port, workers, threads, options),
        cwd=Path(__file__).resolve().parents[1], env=environment, stdout=log.open("wb"),
        stderr=subprocess.STDOUT, start_new_session=True)
    return process, port


def wait_answering(process: subprocess.Popen[bytes], port: int, log: Path,
                   seconds: float = 120.0) -> None:
    """Wait until the server answers GET /healthz (stopped and an error when it does not)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return
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



def _run_gunicorn(options: dict[str, Any]) -> None:
    """`python -m bench.servers OPTIONS-JSON`: our app under fhir_server.serving.Server with
    these gunicorn settings (the database in MONGODB_URI)."""
    from fhir_server import create_app
    from fhir_server.serving import Server

    Server(create_app, options).run()


if __name__ == "__main__":
    _run_gunicorn(json.loads(sys.argv[1]))
