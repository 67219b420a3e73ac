"""The serving stack (issue 17 point 1): server CPU per request of the WSGI server choices and
gunicorn configurations, for a bare Flask app and for ours, measured side by side in one run.

Each configuration is a server process of its own (started once, all of them idle but one while
measuring); rounds go over the configurations in turn and the medians are kept, so a noisy,
shared machine moves every configuration alike. One keep-alive client sends `--requests` of each
kind per round: `/healthz` (the trivial request) on every server, and a read by id
(`GET /Patient/{id}`, a site nurse's token, audited as in production) on ours. The CPU is that
of every process of the server's session (master and workers) from /proc, before and after.

Goals (same-run ratios): our /healthz <= 0.4x the bare Flask app under gunicorn gthread (the
reference row); our read by id <= 1.3x our own /healthz on the same server. Run:
.venv/bin/python bench/bench_serving.py [--rounds 3] [--requests 400] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_campaign import PASSWORD, Http, _login, _services  # noqa: E402
from bench.http_load import Request, run_load  # noqa: E402
from bench.load_mix import JSON, setup  # noqa: E402
from bench.report import Figure, Table, emit, emit_table  # noqa: E402
from bench.servers import (  # noqa: E402
    session_cpu_seconds,
    spawn_server,
    stop_server,
    wait_answering,
)
from fhir_server.embedded import EmbeddedStore, free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = "bare gunicorn gthread 2x8"
DEFAULT = "ours: serve (gunicorn FhirWorker 2x8)"
BASE_URL = "http://127.0.0.1:8080"
GRANIAN = Path(sys.executable).with_name("granian")
FIGURED = (DEFAULT, "bare gunicorn FhirWorker 2x8", "bare granian 2", "ours: granian 2")


@dataclass(frozen=True)
class Config:
    """One server configuration: the app (bare or ours), the server and its settings."""

    name: str
    app: str  # bare | ours
    server: str  # serve | gunicorn | granian
    workers: int = 2
    threads: int = 8
    options: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)  # our server's settings on top


CONFIGS = (
    Config(REFERENCE, "bare", "gunicorn", options={"worker_class": "gthread"}),
    Config("bare gunicorn sync 2 (no keep-alive)", "bare", "gunicorn", threads=1,
           options={"worker_class": "sync"}),
    Config("bare gunicorn FhirWorker 2x8", "bare", "gunicorn",
           options={"worker_class": "fhir_server.serving.FhirWorker"}),
    Config("bare granian 2", "bare", "granian"),
    Config(DEFAULT, "ours", "serve"),
    Config("ours: gunicorn gthread 2x8 (no linger)", "ours", "gunicorn",
           options={"worker_class": "gthread"}),
    Config("ours: FhirWorker 2x1", "ours", "gunicorn", threads=1),
    Config("ours: FhirWorker 2x8 keep-alive 75 (as --prod)", "ours", "gunicorn",
           options={"keepalive": 75, "timeout": 60}),
    Config("ours: gunicorn sync 2 (no keep-alive)", "ours", "gunicorn", threads=1,
           options={"worker_class": "sync"}),
    Config("ours: granian 2", "ours", "granian"),
    Config("ours: serve, FHIR_AUDIT=off (the audit's share)", "ours", "serve",
           env={"FHIR_AUDIT": "off"}),
)
COLUMNS = ("configuration", "/healthz req/s", "/healthz CPU us", "x bare gthread", "read req/s",
           "read CPU us", "read x /healthz", "read database CPU us")


def bare_command(config: Config, port: int) -> list[str]:
    """The command line of the bare Flask app (bench/bare_app.py) under a configuration."""
    if config.server == "granian":
        return [str(GRANIAN), "--interface", "wsgi",
                "--workers", str(config.workers), "--blocking-threads", str(config.threads),
                "--host", "127.0.0.1", "--port", str(port), "--no-ws", "--log-level",
                "warning", "bench.bare_app:app"]
    options = {"worker_class": "gthread", **config.options}
    command = [sys.executable, "-m", "gunicorn", "-k", options.pop("worker_class"), "-w",
               str(config.workers), "--threads", str(config.threads), "-b",
               f"127.0.0.1:{port}", "--no-control-socket"]
    for key, value in options.items():
        command += [f"--{key.replace('_', '-')}", str(value)]
    return [*command, "bench.bare_app:app"]


def spawn_bare(config: Config, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start the bare app under `config` on a free port (not waiting for it)."""
    port = free_port()
    process = subprocess.Popen(bare_command(config, port), cwd=ROOT, stdout=log.open("wb"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    return process, port


def quiet(sessions: tuple[int, ...], limit: float = 20.0) -> None:
    """Wait until the processes of these sessions are idle (under 2 % of a core for 0.3 s):
    the audit backlog of the last measurement is stored before the next one starts."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = sum(session_cpu_seconds(pid) for pid in sessions)
        time.sleep(0.3)
        if sum(session_cpu_seconds(pid) for pid in sessions) - before < 0.006 * len(sessions):
            return


def measure(port: int, sessions: tuple[int, ...], request: Request, count: int
            ) -> tuple[float, float, float]:
    """(req/s, server CPU µs per request, database CPU µs per request) of one keep-alive
    client sending `count` requests (sessions: the server's, then the database's)."""
    run_load("127.0.0.1", port, request, 20, 1)  # warm: the connection and the caches
    quiet(sessions)
    before = [session_cpu_seconds(pid) for pid in sessions]
    result = run_load("127.0.0.1", port, request, count, 1)
    time.sleep(0.3)  # the audit thread's last batch
    after = [session_cpu_seconds(pid) for pid in sessions]
    if result.errors:
        raise RuntimeError(f"{result.errors} of {count} requests failed on port {port}")
    used = [(b - a) * 1e6 / count for a, b in zip(before, after, strict=True)]
    return result.rate, used[0], used[1] if len(used) > 1 else 0.0


@dataclass
class Row:
    """The samples of one configuration over the rounds."""

    config: Config
    healthz: list[tuple[float, float, float]] = field(default_factory=list)
    read: list[tuple[float, float, float]] = field(default_factory=list)

    def median(self, kind: str, column: int) -> float:
        """The median of one column (0 req/s, 1 server CPU, 2 database CPU) of a kind."""
        samples = getattr(self, kind)
        return statistics.median(sample[column] for sample in samples) if samples else 0.0


def cells(row: Row, reference: float) -> tuple[str, ...]:
    """The table row of a configuration (reference: the bare gthread /healthz CPU)."""
    healthz = row.median("healthz", 1)
    text = [row.config.name, f"{row.median('healthz', 0):.0f}", f"{healthz:.0f}",
            f"{healthz / reference:.2f}" if reference else ""]
    if row.read:
        read = row.median("read", 1)
        text += [f"{row.median('read', 0):.0f}", f"{read:.0f}", f"{read / healthz:.2f}",
                 f"{row.median('read', 2):.0f}"]
    else:
        text += ["", "", "", ""]
    return tuple(text)


def server_env(tmp: Path) -> dict[str, str]:
    """Our servers' settings: authentication and audit on, as in bench_load.py."""
    return {"FHIR_AUTH_REQUIRED": "1", "FHIR_AUTH_KEY_DIR": str(tmp / "keys"),
            "FHIR_SERVER_SHC_KEY_DIR": str(tmp / "shc"), "FHIR_HOME": str(tmp / "home"),
            "FHIR_AUDIT_SPOOL_DIR": str(tmp / "spool-server"), "FHIR_SMS_RETRY_SECONDS": "0",
            "FHIR_SMS_GATEWAY": f"file:{tmp}/sms.jsonl",
            "FHIR_BASE_URL": BASE_URL}  # one token audience for every server


def run(args: argparse.Namespace, tmp: Path) -> list[Row]:
    """Start every configuration, then measure them round by round."""
    configs = [c for c in CONFIGS if (not args.only or c.name in args.only or c.name in (
        REFERENCE, DEFAULT)) and (c.server != "granian" or GRANIAN.exists())]
    if not GRANIAN.exists():
        print("granian is not installed (.venv/bin/pip install granian): its rows are left out")
    rows = [Row(config) for config in configs]
    with EmbeddedStore(tmp / "data", log_path=tmp / "db.log") as store:
        assert store.process is not None
        _services(store.uri, tmp).components["auth"].accounts.create_staff(
            "+84900000777", "serving site", PASSWORD, ["practitioner"])
        servers: list[tuple[subprocess.Popen[bytes], int]] = []
        try:
            for number, config in enumerate(configs):  # started together, then waited for
                log = tmp / f"server-{number}.log"
                servers.append(spawn_bare(config, log) if config.app == "bare" else
                               spawn_server(store.uri, log, config.workers, config.threads,
                                            config.server, config.options,
                                            **server_env(tmp), **config.env))
            for number, (process, port) in enumerate(servers):
                wait_answering(process, port, tmp / f"server-{number}.log")
            ours = next(port for (_, port), c in zip(servers, configs, strict=True)
                        if c.app == "ours")
            token = _login(Http(ours), "+84900000777")
            ids = setup(ours, token, args.patients)
            headers = {"Accept": JSON, "Authorization": f"Bearer {token}"}
            pairs = list(zip(rows, servers, strict=True))
            for number in range(args.rounds):  # each round starts one configuration later
                shift = number % len(pairs)
                for row, (process, port) in pairs[shift:] + pairs[:shift]:
                    sessions = (process.pid, store.process.pid)
                    row.healthz.append(measure(port, sessions, lambda n: (
                        "GET", "/healthz", None, {}), args.requests))
                    if row.config.app == "ours":
                        row.read.append(measure(port, sessions, lambda n: (
                            "GET", f"/Patient/{ids[n % len(ids)]}", None, headers),
                            args.requests))
                print(f"round {number + 1} of {args.rounds} done", flush=True)
        finally:
            for process, _ in servers:
                stop_server(process)
    return rows


def report(rows: list[Row], args: argparse.Namespace) -> None:
    """The table of every configuration and the figures of the goals."""
    by_name = {row.config.name: row for row in rows}
    reference = by_name[REFERENCE].median("healthz", 1)
    table = Table(f"Serving stack: server CPU per request, one keep-alive client ({args.rounds}"
                  f" rounds x {args.requests} requests, medians)", COLUMNS,
                  tuple(cells(row, reference) for row in rows))
    print(" | ".join(COLUMNS))
    for line in table.rows:
        print(" | ".join(line))
    emit_table(table)
    for row in rows:  # figures for the report's table: the default and the other servers
        if row.config.name not in FIGURED:
            continue
        healthz = row.median("healthz", 1)
        emit(Figure(f"{row.config.name}: /healthz server CPU", healthz, "us",
                    healthz / reference, "of the bare Flask app under gunicorn gthread 2x8"
                    + (" (issue 17 goal <= 0.4)" if row.config.app == "ours" else "")))
        if row.read:
            read = row.median("read", 1)
            emit(Figure(f"{row.config.name}: read by id server CPU", read, "us",
                        read / healthz, "of its own /healthz (issue 17 goal <= 1.3); audited"))


def main() -> int:
    """Measure every configuration and print the table and figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=400, help="per kind, round, server")
    parser.add_argument("--patients", type=int, default=50, help="people stored first")
    parser.add_argument("--only", nargs="*", default=[],
                        help="configuration names (the reference and the default always run)")
    args = parser.parse_args()
    report(run(args, Path(tempfile.mkdtemp(prefix="bench-serving-"))), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
