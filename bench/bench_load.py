"""Load test (issue 16 point 7): rising concurrency on a campaign mix against `fhir-server serve`
(gunicorn, 2 workers) on the embedded SecantusDB, with authentication and auditing on (a site
nurse's token; one AuditEvent per personal-data access), until saturation.

The mix: reads of a Patient by id, `Immunization?patient=`, `Patient?identifier=`, and creates
of the campaign's resources (a dose recorded: Immunization; a registration: a proposed
Appointment; a new person: Patient). Each level runs closed-loop clients (1, 2, 4, 8, ...; each
thread its own keep-alive connection) for a fixed time and prints throughput, p50/p95/p99
latency, errors (any non-2xx or failed connection) and the CPU per request of the server
(gunicorn's processes), the database and this load generator, from /proc. It stops after a
level with errors, or when throughput has not grown 5 % over the best level for two levels in
a row (saturation). Before the levels, one keep-alive client measures the server CPU of a
trivial request (/healthz) and of a read by id (issue 17: read <= 1.3x the trivial request),
and of /healthz on a bare Flask app under the same gunicorn gthread (issue 17: ours <= 0.4x).
The load generator shares the machine's cores with the server and the database. Run:
.venv/bin/python bench/bench_load.py [--levels 1 2 4 8 16 32] [--seconds 8] [--patients 300]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bare_app import bare_trivial_cpu  # noqa: E402
from bench.bench_campaign import PASSWORD, Http, _login, _services  # noqa: E402
from bench.http_load import LoadResult, Request, http_sender, run_for, run_load  # noqa: E402
from bench.load_mix import JSON, MIX, draw, mix, setup  # noqa: E402
from bench.report import Figure, Table, emit, emit_table  # noqa: E402
from bench.servers import session_cpu_seconds, settle, start_server, stop_server  # noqa: E402
from fhir_server.embedded import EmbeddedStore  # noqa: E402

COLUMNS = ("clients", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "server CPU ms/req",
           "database CPU ms/req", "load generator CPU ms/req")


def _cpu(pids: tuple[int, int]) -> tuple[float, float, float]:
    return session_cpu_seconds(pids[0]), session_cpu_seconds(pids[1]), time.process_time()


def per_request_cpu(port: int, pids: tuple[int, int], request: Request, count: int
                    ) -> tuple[float, float]:
    """Server and database CPU µs per request of one keep-alive client sending `request`."""
    before = _cpu(pids)
    result = run_load("127.0.0.1", port, request, count, 1)
    time.sleep(0.5)  # the audit thread's last batch
    after = _cpu(pids)
    if result.errors:
        raise RuntimeError(f"{result.errors} of {count} requests failed")
    return ((after[0] - before[0]) * 1e6 / count, (after[1] - before[1]) * 1e6 / count)


def saturated(rates: list[float]) -> bool:
    """True when the last two levels did not beat the best before them by 5 %."""
    if len(rates) < 3:
        return False
    best_before = max(rates[:-2])
    return all(rate < best_before * 1.05 for rate in rates[-2:])


@dataclass
class Level:
    """One concurrency level: its load result, CPU ms per request (server, database, load
    generator) and the latencies of each kind of request."""

    clients: int
    result: LoadResult
    cpu: list[float]
    by_kind: dict[str, list[float]]

    def row(self) -> tuple[str, ...]:
        """The level's row of the table."""
        result = self.result
        return (str(self.clients), f"{result.rate:.0f}", f"{result.percentile(0.5):.1f}",
                f"{result.percentile(0.95):.1f}", f"{result.percentile(0.99):.1f}",
                str(result.errors), *(f"{ms:.1f}" for ms in self.cpu))


def run_level(port: int, pids: tuple[int, int], ids: list[str], token: str, clients: int,
              seconds: float, failures: Counter[str]) -> Level:
    """`clients` closed-loop clients on the mix for `seconds`."""
    send = http_sender("127.0.0.1", port, mix(ids, token, clients), None, failures)
    by_kind: dict[str, list[float]] = {name: [] for name, _weight in MIX}

    def work(number: int) -> bool:
        started = time.perf_counter()
        try:
            return send(number)
        finally:
            by_kind[draw(clients, number, len(ids))[0]].append(
                (time.perf_counter() - started) * 1000)

    before = _cpu(pids)
    result = run_for(work, seconds, clients)
    after = _cpu(pids)
    cpu = [(after[k] - before[k]) * 1000 / max(result.requests, 1) for k in range(3)]
    return Level(clients, result, cpu, by_kind)


def run_levels(port: int, pids: tuple[int, int], ids: list[str], token: str,
               args: argparse.Namespace, failures: Counter[str]) -> list[Level]:
    """Each concurrency level in turn until errors or saturation."""
    levels: list[Level] = []
    for clients in args.levels:
        settle(pids[1], limit=20)  # the last level's audit backlog is stored first
        levels.append(run_level(port, pids, ids, token, clients, args.seconds, failures))
        print("  " + " | ".join(levels[-1].row()), flush=True)
        if levels[-1].result.errors or saturated([level.result.rate for level in levels]):
            break
    return levels


def kinds_table(level: Level) -> Table:
    """Latency percentiles of each kind of request at one level."""
    rows = []
    for kind, latencies in level.by_kind.items():
        found = LoadResult(len(latencies), 0.0, 0, latencies)
        rows.append((kind, str(found.requests), f"{found.percentile(0.5):.1f}",
                     f"{found.percentile(0.95):.1f}", f"{found.percentile(0.99):.1f}"))
    return Table(f"Load test: latency by kind of request at the peak ({level.clients} clients)",
                 ("request", "count", "p50 ms", "p95 ms", "p99 ms"), tuple(rows))


def report(levels: list[Level], trivial: tuple[float, float, float],
           read: tuple[float, float], failures: Counter[str], args: argparse.Namespace) -> None:
    """Print the figures and their records for the table (trivial: our /healthz server and
    database CPU µs, and the bare Flask app's)."""
    top = max(levels, key=lambda level: level.result.rate)
    peak_clients, peak, peak_cpu = top.clients, top.result, top.cpu
    first = levels[0].result
    errors = sum(level.result.errors for level in levels)
    conditions = f"gunicorn {args.workers}x{args.threads}, {os.cpu_count()} cores"
    emit_table(Table(f"Load test: campaign mix at rising concurrency ({conditions}, "
                     f"{args.seconds:.0f} s per level)",
                     COLUMNS, tuple(level.row() for level in levels)))
    emit_table(kinds_table(top))
    stop = ("errors" if levels[-1].result.errors else "saturation" if saturated(
        [level.result.rate for level in levels]) else "last level")
    print(f"peak {peak.rate:.0f} req/s at {peak_clients} clients ({peak.rate / first.rate:.1f}x "
          f"one client); stopped at {levels[-1].clients} clients: {stop}; errors {errors}"
          + (f" ({dict(failures)})" if failures else ""))
    print(f"server CPU per request (1 keep-alive client): /healthz {trivial[0]:.0f} µs, read by "
          f"id {read[0]:.0f} µs = {read[0] / trivial[0]:.2f}x the trivial request (issue 17 goal "
          f"<= 1.3); database {read[1]:.0f} µs per read (audited); a bare Flask app under "
          f"gunicorn gthread: {trivial[2]:.0f} µs per /healthz (ours {trivial[0] / trivial[2]:.2f}"
          "x, issue 17 goal <= 0.4)")
    for figure in (
            Figure("mix peak throughput", peak.rate, "req/s", peak.rate / first.rate,
                   f"of one client; peak at {peak_clients} clients, stopped at "
                   f"{levels[-1].clients} ({stop})"),
            Figure("mix p99 at peak", peak.percentile(0.99), "ms",
                   peak.percentile(0.99) / peak.percentile(0.5),
                   f"of p50 {peak.percentile(0.5):.0f} ms at {peak_clients} clients"),
            Figure("mix errors, all levels", errors, "requests", None,
                   ", ".join(f"{k}: {v}" for k, v in failures.items())),
            Figure("mix server CPU per request at peak", peak_cpu[0], "ms",
                   peak_cpu[0] / peak_cpu[1] if peak_cpu[1] else None,
                   f"of the database's {peak_cpu[1]:.1f} ms"),
            Figure("read by id server CPU (keep-alive)", read[0], "us", read[0] / trivial[0],
                   "of a trivial request /healthz (issue 17 goal <= 1.3)"),
            Figure("trivial request /healthz server CPU", trivial[0], "us",
                   trivial[0] / trivial[2], "of a bare Flask app under gunicorn gthread, same "
                   "workers and threads (issue 17 goal <= 0.4)")):
        emit(figure)


def main() -> int:
    """Set up the server and its data, run the levels, print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32])
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each level")
    parser.add_argument("--patients", type=int, default=300, help="people stored first")
    parser.add_argument("--cpu-requests", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    with EmbeddedStore(tmp / "data", log_path=tmp / "db.log") as store:
        _services(store.uri, tmp).components["auth"].accounts.create_staff(
            "+84900000777", "load site", PASSWORD, ["practitioner"])
        settings = {"AUTH_REQUIRED": "1", "AUTH_KEY_DIR": tmp / "keys",  # as bench_campaign
                    "SERVER_SHC_KEY_DIR": tmp / "shc", "AUDIT_SPOOL_DIR": tmp / "spool-server",
                    "SMS_GATEWAY": f"file:{tmp}/sms.jsonl"}
        server, port = start_server(store.uri, tmp / "server.log", args.workers, args.threads,
                                    **{f"FHIR_{k}": str(v) for k, v in settings.items()})
        try:
            assert store.process is not None
            pids = (server.pid, store.process.pid)
            token = _login(Http(port), "+84900000777")
            ids = setup(port, token, args.patients)
            reads = {"Accept": JSON, "Authorization": f"Bearer {token}"}
            trivial = per_request_cpu(port, pids, lambda n: ("GET", "/healthz", None, {}),
                                      args.cpu_requests)
            read = per_request_cpu(port, pids, lambda n: (
                "GET", f"/Patient/{ids[n % len(ids)]}", None, reads), args.cpu_requests)
            bare = bare_trivial_cpu(args.cpu_requests, tmp / "bare.log", args.workers,
                                    args.threads)
            print(f"{args.patients} people with a dose each stored; mix "
                  + ", ".join(f"{name} {weight} %" for name, weight in MIX))
            print("  " + " | ".join(COLUMNS))
            failures: Counter[str] = Counter()
            levels = run_levels(port, pids, ids, token, args, failures)
        finally:
            stop_server(server)
    report(levels, (*trivial, bare), read, failures, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
