"""Same-run peer benchmark (issue 17 point 4): our server against sekmet (PyPI `sekmet-fhir`, a
FastAPI + SQLite FHIR R4 server), the same workload on both, interleaved rounds on this machine.

The workload: transaction ingest of the Synthea bundles reduced to our types (both servers take
the same transaction Bundles, POST entries with urn:uuid references), then reads of the round's
Patients by id, `Immunization?patient=Patient/<id>` and `Patient?family=<f>&birthdate=<d>`, from
`--clients` keep-alive clients. Each round measures ours then sekmet (the order alternates).
Both servers validate every resource (sekmet with fhir.resources `model_validate`, ours with its
write validation, fhir.resources of the same version as its reference) and write to disk: ours
on SecantusDB (`--sync-on-commit`), sekmet to its SQLite file (WAL, synchronous=FULL);
neither authenticates or audits (our FHIR_AUDIT=off, sekmet's traffic log off; `--audit` turns
both on). Printed: throughput min/median/max and ours/sekmet, and the CPU split per operation
from /proc: our API (gunicorn master + workers), our database (the SecantusDB process), sekmet's
whole server (its one process, SQLite inside).

Goal (issue 17): our API CPU per operation <= 1/2 of sekmet's whole-server CPU per operation on
ingest, read and both searches; the exit status is 1 when it is missed.
Run: .venv/bin/python bench/bench_peers.py [--rounds 5] [--bundles N] [--requests 400] [--audit]
"""

from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import peer_setup  # noqa: E402
from bench.http_load import LoadResult, run_load, run_threads  # noqa: E402
from bench.peer_servers import Target, ours, sekmet, sqlite_facts  # noqa: E402
from bench.peer_workload import (  # noqa: E402
    GOAL,
    OPERATIONS,
    POST_HEADERS,
    Workload,
    cpu_per_operation,
    load_workload,
    patient_id,
    request_maker,
    summarise,
)
from bench.report import Figure, Table, emit, emit_table  # noqa: E402
from bench.servers import session_cpu_seconds, settle  # noqa: E402

HOST = "127.0.0.1"
# (target, operation) -> per round: throughput, API µs/op, database µs/op
Results = dict[tuple[str, str], list[tuple[float, float, float]]]


def _cpu(target: Target) -> tuple[float, float]:
    database = target.database_session
    return (session_cpu_seconds(target.api_session),
            session_cpu_seconds(database) if database else 0.0)


def _ingest(target: Target, workload: Workload, clients: int) -> tuple[LoadResult, list[str]]:
    """POST every bundle as a transaction; the Patient id each got, in bundle order."""
    ids = [""] * len(workload.bodies)
    local = threading.local()
    make = request_maker("ingest", target.prefix, workload, ids)

    def post(number: int) -> bool:
        if getattr(local, "connection", None) is None:
            local.connection = http.client.HTTPConnection(HOST, target.port, timeout=120)
        method, path, body, headers = make(number)
        local.connection.request(method, path, body=body, headers=headers)
        response = local.connection.getresponse()
        text = response.read()
        if response.status != 200:
            print(f"  {target.name}: transaction {number} answered {response.status}: "
                  f"{text[:300]!r}")
            return False
        ids[number] = patient_id(json.loads(text))
        return True

    return run_threads(post, len(workload.bodies), clients), ids


def measure(target: Target, operation: str, action: Callable[[], LoadResult], count: int
            ) -> tuple[float, float, float]:
    """Run one operation's load: (throughput, API µs, database µs per operation), its CPU
    counted until the database (or sekmet) is idle again."""
    before = _cpu(target)
    result = action()
    if result.errors or result.requests == 0:
        raise RuntimeError(f"{target.name} {operation}: {result.errors} of {result.requests} "
                           "requests failed")
    settle(target.database_session or target.api_session, limit=30)
    after = _cpu(target)
    return (count / result.seconds, cpu_per_operation(before[0], after[0], count),
            cpu_per_operation(before[1], after[1], count))


def one_round(target: Target, workload: Workload, requests: int, clients: int,
              results: Results) -> list[str]:
    """Ingest, then the three reads, on one server; the round's Patient ids."""
    ids: list[str] = []

    def ingest() -> LoadResult:
        loaded, got = _ingest(target, workload, clients)
        ids.extend(got)
        return loaded

    results[target.name, "ingest"].append(measure(target, "ingest", ingest, workload.resources))
    for operation in list(OPERATIONS)[1:]:
        make = request_maker(operation, target.prefix, workload, ids)
        results[target.name, operation].append(measure(
            target, operation, lambda m=make: run_load(HOST, target.port, m, requests, clients),
            requests))
    return ids


def warm_up(target: Target, workload: Workload) -> None:
    """The same few bundles and reads on each server before the rounds (every worker's first
    requests load models and caches), not measured."""
    loaded, ids = _ingest(target, workload, 2)
    for operation in list(OPERATIONS)[1:]:
        make = request_maker(operation, target.prefix, workload, ids)
        loaded = run_load(HOST, target.port, make, 20, 2)
        if loaded.errors:
            raise RuntimeError(f"{target.name} warm-up {operation}: {loaded.errors} errors")


def _get(target: Target, path: str) -> dict[str, Any]:
    """GET a path (with the FHIR base path) as JSON."""
    with urllib.request.urlopen(f"http://{HOST}:{target.port}{path}", timeout=30) as response:
        return dict(json.loads(response.read()))


def differing(targets: list[Target], workload: Workload, ids: dict[str, list[str]]
              ) -> list[str]:
    """The search operations for which the two servers give different numbers of matches to
    the first Patients' queries (printed, with the counts)."""
    differ = []
    for operation in ("immunizations", "family-birthdate"):
        answers = {}
        for target in targets:
            make = request_maker(operation, target.prefix, workload, ids[target.name])
            answers[target.name] = [
                len(_get(target, make(n)[1]).get("entry", []))
                for n in range(min(5, len(workload.people)))]
        same = len({tuple(found) for found in answers.values()}) == 1
        print(f"{OPERATIONS[operation][0]} matches of the first Patients: "
              f"{answers['ours'] if same else answers}"
              f"{'' if same else ' - ANSWERS DIFFER: the figures compare unlike work'}")
        differ += [] if same else [operation]
    return differ


INVALID = json.dumps({"resourceType": "Bundle", "type": "transaction", "entry": [
    {"fullUrl": "urn:uuid:5f1c0d52-0000-4000-8000-000000000001",
     "resource": {"resourceType": "Patient", "birthDate": "not-a-date"},
     "request": {"method": "POST", "url": "Patient"}}]}).encode()


def rejects_invalid(target: Target) -> int:
    """The status of a transaction holding an invalid Patient (birthDate not a date): a 4xx
    when the server validates the resources of the ingest path."""
    request = urllib.request.Request(f"http://{HOST}:{target.port}{target.prefix or '/'}",
                                     method="POST", data=INVALID, headers=POST_HEADERS)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def report(results: Results, rounds: int, differ: list[str]) -> bool:
    """Print and emit the figures; True when the goal holds on every operation."""
    rows = []
    for operation, (label, unit) in OPERATIONS.items():
        found = summarise(results["ours", operation], results["sekmet", operation])
        caveat = "; ANSWERS DIFFER from sekmet's" if operation in differ else ""
        verdict_text = "holds" if found.holds else "missed"
        rows.append((label, found.rate.text(), found.peer_rate.text(), f"{found.speed:.2f}",
                     f"{found.api_us.median:,.0f}", f"{found.database_us.median:,.0f}",
                     f"{found.peer_us.median:,.0f}", f"{found.share:.2f}",
                     verdict_text + (" (answers differ)" if caveat else "")))
        emit(Figure(f"peer {label}: our throughput", found.rate.median, unit, found.speed,
                    f"/ sekmet's; min/median/max ours {found.rate.text()}, sekmet "
                    f"{found.peer_rate.text()} ({rounds} round{'s' * (rounds > 1)}){caveat}"))
        emit(Figure(f"peer {label}: our API CPU per op", found.api_us.median, "µs", found.share,
                    f"of sekmet's whole server {found.peer_us.median:,.0f} µs (goal ≤ {GOAL}: "
                    f"{verdict_text}); our database {found.database_us.median:,.0f} µs{caveat}"))
    columns = ("operation", "ours min/med/max", "sekmet min/med/max", "ours/sekmet",
               "our API µs/op", "our database µs/op", "sekmet whole µs/op", "API/sekmet",
               f"goal ≤ {GOAL}")
    print(" | ".join(columns))
    for row in rows:
        print(" | ".join(row))
    print(f"goal (issue 17): our API CPU per operation <= {GOAL} x sekmet's whole server: "
          + "; ".join(f"{row[0]} {row[7]} {row[8]} (throughput ours/sekmet {row[3]})"
                      for row in rows))
    emit_table(Table(f"peer bench: ours vs sekmet, {rounds} interleaved round"
                     f"{'s' * (rounds > 1)} (medians)",
                     columns, tuple(rows)))
    return all(row[-1] == "holds" for row in rows)


def main() -> int:
    """Run both servers through the same rounds; print figures, ratios and the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--bundles", type=int, help="the first N Synthea bundles (default all)")
    parser.add_argument("--requests", type=int, default=400, help="per read operation and round")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--audit", action="store_true",
                        help="our FHIR_AUDIT=all and sekmet's traffic log on")
    parser.add_argument("--no-install", action="store_true",
                        help="skip the peer when its venv is missing (instead of installing it)")
    args = parser.parse_args()
    if not peer_setup.installed() and args.no_install:
        print(f"peer bench skipped: sekmet is not installed in {peer_setup.VENV} "
              "(make bench installs it: python bench/peer_setup.py)")
        return 0
    try:
        python = peer_setup.ensure_venv()
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"peer bench skipped: sekmet could not be installed in {peer_setup.VENV} "
              f"({error})")
        return 0
    workload = load_workload(limit=args.bundles)
    tmp = Path(tempfile.mkdtemp(prefix="bench-peers-"))
    print(f"{len(workload.bodies)} Synthea transaction bundles ({workload.resources} resources) "
          f"per round, {args.requests} requests per read operation, {args.clients} keep-alive "
          f"clients, {args.rounds} interleaved rounds; ours: gunicorn {args.workers}x"
          f"{args.threads} on SecantusDB (--sync-on-commit); sekmet: "
          f"{peer_setup.peer_versions(python)}, uvicorn one process; audit/traffic log "
          f"{'on' if args.audit else 'off'}")
    results: Results = {(name, op): [] for name in ("ours", "sekmet") for op in OPERATIONS}
    with ExitStack() as stack:
        targets = [stack.enter_context(ours(tmp / "ours", args.workers, args.threads,
                                            args.audit)),
                   stack.enter_context(sekmet(python, tmp / "sekmet", args.audit))]
        for target in targets:
            warm_up(target, load_workload(limit=4))
            print(f"{target.name}: a transaction with an invalid Patient answers "
                  f"{rejects_invalid(target)}")
        ids: dict[str, list[str]] = {}
        differ: list[str] = []
        for number in range(args.rounds):
            for target in targets if number % 2 == 0 else targets[::-1]:
                ids[target.name] = one_round(target, workload, args.requests, args.clients,
                                             results)
            if number == 0:
                differ = differing(targets, workload, ids)
            print(f"round {number + 1}: " + ", ".join(
                f"{name} {op} {results[name, op][-1][0]:.0f}" for name, op in results))
        counts = {t.name: _get(t, f"{t.prefix}/Patient?_summary=count").get("total")
                  for t in targets}
        print(f"Patients stored: {counts}")
    print(f"sekmet SQLite file: {sqlite_facts(tmp / 'sekmet/data/sekmet.db')}")
    return 0 if report(results, args.rounds, differ) else 1


if __name__ == "__main__":
    sys.exit(main())
