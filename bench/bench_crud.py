"""Create and read throughput over HTTP under gunicorn, next to (a) a trivial JSON route on the
same server and (b) raw pymongo insert/find of the same documents — all in the same run.

Goal (issue: foundation): read throughput >= 60 % of the slower of (a) and (b). This measures
the FHIR core: the server runs without authentication and without the per-request AuditEvent
(FHIR_AUDIT=off); bench_auth.py measures what the token and the auditing add.
Run: .venv/bin/python bench/bench_crud.py [--requests N] [--clients C] [--workers W]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.cursor import Cursor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.http_load import LoadResult, run_load, run_threads  # noqa: E402
from bench.servers import settle, start_server, stop_server  # noqa: E402
from fhir_server.embedded import EmbeddedStore  # noqa: E402

LABELS = ("FHIR create (POST /Patient)", "FHIR read (GET /Patient/id)",
          "(a) trivial JSON route /healthz", "(b) raw pymongo insert_one",
          "(b) raw pymongo find_one")
HEADERS = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}


def patient(number: int) -> dict[str, object]:
    """A realistic Vietnamese Patient resource."""
    return {"resourceType": "Patient",
            "identifier": [{"system": "urn:vn:cccd", "value": f"0010850{number:05d}"}],
            "name": [{"use": "official", "family": "Nguyễn", "given": ["Văn", f"An{number}"]}],
            "telecom": [{"system": "phone", "value": f"+849123{number:05d}", "use": "mobile"}],
            "gender": "male", "birthDate": "1985-03-12",
            "address": [{"line": ["12 Phố Huế"], "city": "Hà Nội", "country": "VN"}]}


def _line(label: str, result: LoadResult) -> str:
    return (f"{label:34} {result.rate:8.0f} req/s   p50 {result.percentile(0.5):6.2f} ms   "
            f"p95 {result.percentile(0.95):6.2f} ms   errors {result.errors}")


def main() -> int:
    """Run the benchmark and print figures and ratios."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(sys.argv[1:] if __name__ == "__main__" else [])
    tmp = Path(tempfile.mkdtemp(prefix="bench-crud-"))
    with EmbeddedStore(tmp / "data", log_path=tmp / "db.log") as store:
        server, port = start_server(store.uri, tmp / "server.log", args.workers, args.threads,
                                    FHIR_AUTH_REQUIRED="0", FHIR_AUDIT="off")
        try:
            bodies = [json.dumps(patient(n)).encode() for n in range(args.requests)]
            total, clients = args.requests, args.clients
            runs: dict[str, list[LoadResult]] = {label: [] for label in LABELS}
            ids: list[str] = []
            raw_ids: list[object] = []
            client: MongoClient[dict[str, Any]]
            with MongoClient(store.uri) as client:
                raw: Collection[dict[str, Any]] = client["bench"]["raw_patient"]
                documents = [json.loads(body) for body in bodies]
                for _ in range(args.rounds):  # write phase: interleaved rounds, medians
                    runs[LABELS[0]].append(run_load(
                        "127.0.0.1", port, lambda n: ("POST", "/Patient", bodies[n], HEADERS),
                        total, clients, 201))
                    runs[LABELS[3]].append(run_threads(
                        lambda n: raw.insert_one(dict(documents[n])).acknowledged, total,
                        clients))
                stored: Cursor[dict[str, Any]] = client["bench"]["Patient"].find({}, {"_id": 1})
                ids.extend(str(doc["_id"]) for doc in stored)
                raw_ids.extend(d["_id"] for d in raw.find({}, {"_id": 1}))
                measures: list[tuple[str, Callable[[], LoadResult]]] = [
                    (LABELS[1], lambda: run_load(
                        "127.0.0.1", port,
                        lambda n: ("GET", f"/Patient/{ids[n % len(ids)]}", None, HEADERS),
                        total, clients)),
                    (LABELS[4], lambda: run_threads(
                        lambda n: raw.find_one({"_id": raw_ids[n % len(raw_ids)]}) is not None,
                        total, clients)),
                    (LABELS[2], lambda: run_load(
                        "127.0.0.1", port, lambda n: ("GET", "/healthz", None, {}), total,
                        clients))]
                if store.process is not None:  # the database has finished absorbing the writes
                    settle(store.process.pid)
                for round_number in range(args.rounds):  # read phase: the order rotates
                    turn = round_number % len(measures)
                    for label, measure in measures[turn:] + measures[:turn]:
                        runs[label].append(measure())
        finally:
            stop_server(server)
    print(f"{total} requests per run, {clients} concurrent clients, {args.rounds} rounds "
          f"(medians; writes first, then reads once the database is idle, in rotating order), "
          f"gunicorn {args.workers} workers x {args.threads} threads, "
          f"SecantusDB on loopback, {os.cpu_count()} cores")
    median = {label: sorted(runs[label], key=lambda r: r.rate)[(len(runs[label]) - 1) // 2]
              for label in LABELS}
    for label in LABELS:
        print(_line(label, median[label]))
    reads, created = median[LABELS[1]], median[LABELS[0]]
    reference = min(median[LABELS[2]].rate, median[LABELS[4]].rate)
    print(f"read / min(a, b find)      = {reads.rate / reference:6.1%}   (goal >= 60 %)")
    print(f"create / raw insert_one    = {created.rate / median[LABELS[3]].rate:6.1%}")
    failed = any(r.errors for results in runs.values() for r in results)
    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
