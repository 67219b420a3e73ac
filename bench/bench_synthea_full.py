"""Hospital ingest (issue 13): the 58 full Synthea R4 bundles (Encounter, Observation, Claim...,
7,214 resources) POSTed once each as transactions over HTTP under gunicorn, Organization and
Practitioner turned into conditional creates by identifier (bulk/bundle_tools.dedupe_entries,
what `fhir-server import --dedupe` does). Printed: resources/s, worker and database CPU ms per
resource, and, in the same run on the same store, raw pymongo insert_many of the same resources
(no index but _id, no history, no validation) as the database's ceiling.
Run: .venv/bin/python bench/bench_synthea_full.py [--clients 4] [--workers 2] [--threads 4]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_ingest import raw_rate  # noqa: E402
from bench.http_load import run_threads  # noqa: E402
from bench.servers import session_cpu_seconds, start_server, stop_server  # noqa: E402
from fhir_server.bulk.bundle_tools import dedupe_entries  # noqa: E402
from fhir_server.embedded import EmbeddedStore  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared/data/synthea/bundles"
HEADERS = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json",
           "Prefer": "return=minimal"}


def post_all(port: int, bodies: list[bytes], clients: int) -> tuple[float, int]:
    """POST each body once from `clients` threads; (seconds, failures)."""
    local = threading.local()
    failed: list[str] = []

    def send(number: int) -> bool:
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        local.connection.request("POST", "/", body=bodies[number], headers=HEADERS)
        response = local.connection.getresponse()
        answer = response.read()
        if response.status != 200:
            failed.append(f"{response.status} {answer[:300]!r}")
        return response.status == 200

    result = run_threads(send, len(bodies), clients)
    for failure in failed[:3]:
        print(f"  failed: {failure}")
    return result.seconds, len(failed)


def main() -> int:
    """Load every bundle once, print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(sys.argv[1:] if __name__ == "__main__" else [])
    bundles: list[dict[str, Any]] = [json.loads(p.read_bytes())
                                     for p in sorted(args.data.glob("*.json"))]
    if not bundles:
        print(f"no Synthea bundles under {args.data}")
        return 1
    for bundle in bundles:
        dedupe_entries(bundle)
    bodies = [json.dumps(bundle).encode() for bundle in bundles]
    count = sum(len(bundle["entry"]) for bundle in bundles)
    tmp = Path(tempfile.mkdtemp(prefix="bench-synthea-"))
    with EmbeddedStore(tmp / "data", log_path=tmp / "db.log") as store:
        server, port = start_server(store.uri, tmp / "server.log", args.workers, args.threads,
                                    FHIR_AUTH_REQUIRED="0", FHIR_AUTH_KEY_DIR=str(tmp / "keys"),
                                    FHIR_SMS_GATEWAY=f"file:{tmp}/sms.jsonl",
                                    FHIR_EXPORT_DIR=str(tmp / "export"))
        try:
            assert store.process is not None
            cpu = (session_cpu_seconds(server.pid), session_cpu_seconds(store.process.pid))
            seconds, failures = post_all(port, bodies, args.clients)
            time.sleep(1.0)  # the audit thread's last batch
            worker_ms = (session_cpu_seconds(server.pid) - cpu[0]) * 1000 / count
            database_ms = (session_cpu_seconds(store.process.pid) - cpu[1]) * 1000 / count
        finally:
            stop_server(server)
        raw = raw_rate(store.uri, bundles, "raw")
    rate = count / seconds
    print(f"{len(bundles)} full Synthea transaction bundles, {count} resources, each POSTed "
          f"once; gunicorn {args.workers} workers x {args.threads} threads, {args.clients} "
          f"clients, SecantusDB on loopback, {os.cpu_count()} cores")
    print(f"transactions over HTTP  {rate:8.0f} resources/s ({seconds:.0f} s)")
    print(f"  CPU per resource: server workers {worker_ms:.2f} ms, database {database_ms:.2f} ms"
          f" (FHIR_AUDIT={os.environ.get('FHIR_AUDIT', 'all')})")
    print(f"raw pymongo insert_many of the same resources (1 thread) {raw:.0f} resources/s: "
          f"transactions reach {rate / raw:.0%} of the database's own ceiling")
    if failures:
        print(f"{failures} transactions failed (figures invalid); see {tmp / 'server.log'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
