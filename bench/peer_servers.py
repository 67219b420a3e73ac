"""The two servers of the peer bench (bench/bench_peers.py) and how each is configured: ours
(`fhir-server serve`, gunicorn, on an embedded SecantusDB writing to disk with a sync on every
commit) and sekmet (its FastAPI app under uvicorn, as `sekmet serve` runs it, from the peer
virtualenv of bench/peer_setup.py), each in its own session so /proc gives its CPU."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.servers import start_server, stop_server
from fhir_server.embedded import EmbeddedStore, free_port


@dataclass(frozen=True)
class Target:
    """A server under test: its name, port, FHIR base path, the session whose processes are its
    API (gunicorn master + workers, or sekmet's whole server), and its database's session (none
    for sekmet: SQLite runs inside the server process)."""

    name: str
    port: int
    prefix: str
    api_session: int
    database_session: int | None = None


def sekmet_settings(port: int, data_dir: Path, traffic_log: bool = False) -> dict[str, object]:
    """sekmet's settings.yaml (YAML is a superset of JSON): strict inbound validation (every
    resource through fhir.resources, a 400 on error), the SQLite file under `data_dir`, no
    authentication, the traffic log (every request and response stored in SQLite) only when
    asked — like our FHIR_AUDIT=off — and its order simulator off (it reacts to writes of
    ServiceRequest, Task...; none here)."""
    return {"base_url": f"http://127.0.0.1:{port}/fhir", "host": "127.0.0.1", "port": port,
            "data_dir": str(data_dir), "db_path": str(data_dir / "sekmet.db"),
            "validation": {"inbound": "strict"}, "server_auth": {"types": ["none"]},
            "log_inbound": traffic_log, "simulator": {"enabled": False}}


def sqlite_facts(path: Path) -> str:
    """journal mode, synchronous level (a connection's default: sekmet sets none) and current
    resources of a sekmet database file (read after sekmet stopped)."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
        sync = db.execute("PRAGMA synchronous").fetchone()[0]
        count = db.execute("SELECT COUNT(*) FROM resources WHERE deleted=0").fetchone()[0]
    return f"journal_mode={mode}, synchronous={sync} (2 = FULL), {count} resources on disk"


def _wait(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"server exited; see {log}") from None
            time.sleep(0.2)
    raise RuntimeError(f"server did not answer {url} within {seconds:.0f} s; see {log}")


@contextlib.contextmanager
def sekmet(python: Path, folder: Path, traffic_log: bool = False) -> Iterator[Target]:
    """sekmet under uvicorn (one process, its standard loop and HTTP parser, no access log) on
    a free port with its database in `folder`; stopped on exit."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "settings.yaml"
    config.write_text(json.dumps(sekmet_settings(port, folder / "data", traffic_log)), "utf-8")
    log = folder / "sekmet.log"
    process = subprocess.Popen(
        [str(python), "-m", "uvicorn", "sekmet.main:app_factory", "--factory", "--host",
         "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"],
        cwd=folder, env={**os.environ, "SEKMET_CONFIG": str(config)},
        stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait(f"http://127.0.0.1:{port}/fhir/metadata", process, log)
        yield Target("sekmet", port, "/fhir", process.pid)
    finally:
        stop_server(process)


@contextlib.contextmanager
def ours(folder: Path, workers: int, threads: int, audit: bool = False) -> Iterator[Target]:
    """`fhir-server serve` (gunicorn, `workers` x `threads`) on an embedded SecantusDB in
    `folder`, without authentication, FHIR_AUDIT=off unless `audit`; stopped on exit."""
    with EmbeddedStore(folder / "data", log_path=folder / "db.log") as store:
        assert store.process is not None
        server, port = start_server(
            store.uri, folder / "server.log", workers, threads, FHIR_AUTH_REQUIRED="0",
            FHIR_AUDIT="all" if audit else "off", FHIR_AUTH_KEY_DIR=str(folder / "keys"),
            FHIR_SMS_GATEWAY=f"file:{folder}/sms.jsonl", FHIR_EXPORT_DIR=str(folder / "export"))
        try:
            yield Target("ours", port, "", server.pid, store.process.pid)
        finally:
            stop_server(server)
