"""Search latency as the database grows: patient-scoped and identifier searches at each size.

Goal (issue 3): p50/p95 of `Immunization?patient=X` and `Patient?identifier=system|value`
grow at most 1.3x from 10k to 1M stored resources. Resources (1 Patient : 3 Immunizations) are
bulk-loaded as the store would write them - the same `SearchIndexer` builds their `idx` - with
insert_many on a SecantusDB started in a temporary directory; the searches go through the app's
test client, without authentication or auditing (FHIR_AUDIT=off: bench_auth.py measures those).
Also prints the extraction cost per resource (it runs on every write).
Run: .venv/bin/python bench/bench_search.py [--sizes 10000 1000000] [--queries 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pymongo import MongoClient  # noqa: E402

from fhir_server import create_app  # noqa: E402
from fhir_server.embedded import EmbeddedStore  # noqa: E402
from fhir_server.search.extract import SearchIndexer  # noqa: E402
from fhir_server.settings import Settings  # noqa: E402
from fhir_server.storage.mongo import instant  # noqa: E402

BASE = "http://bench.local/fhir"
CCCD = "urn:vn:cccd"
CVX = [("207", "COVID-19 Moderna"), ("208", "COVID-19 Pfizer"), ("03", "MMR"),
       ("08", "Hep B"), ("20", "DTaP")]
FAMILIES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"]
BATCH = 2000
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def patient(number: int) -> dict[str, Any]:
    """A realistic patient (national id, Vietnamese name, phone, address)."""
    return {"resourceType": "Patient", "id": f"p{number:08d}",
            "identifier": [{"system": CCCD, "value": f"{number:012d}"}],
            "name": [{"family": FAMILIES[number % 10], "given": ["Văn", f"An{number % 997}"]}],
            "telecom": [{"system": "phone", "value": f"+8490{number:08d}"}],
            "gender": "male" if number % 2 else "female",
            "birthDate": f"{1940 + number % 80}-{1 + number % 12:02d}-{1 + number % 28:02d}",
            "address": [{"line": [f"{number % 300} Phố Huế"], "city": "Hà Nội", "country": "VN"}]}


def immunization(number: int, dose: int) -> dict[str, Any]:
    """One of a patient's three immunizations."""
    code, text = CVX[(number + dose) % len(CVX)]
    return {"resourceType": "Immunization", "id": f"i{number:08d}-{dose}", "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": code}],
                            "text": text},
            "patient": {"reference": f"Patient/p{number:08d}"},
            "occurrenceDateTime": f"2021-{1 + dose * 3:02d}-{1 + number % 28:02d}T09:00:00+07:00",
            "lotNumber": f"LOT{number % 5000}", "primarySource": True,
            "protocolApplied": [{"doseNumberPositiveInt": dose + 1, "series": "Primary"}]}


def stored(resource: dict[str, Any], indexer: SearchIndexer, moment: datetime) -> dict[str, Any]:
    """The current-collection document the store writes for version 1 of a resource."""
    body = {**resource, "meta": {"versionId": "1", "lastUpdated": instant(moment)}}
    return {"_id": resource["id"], "vid": 1, "ts": moment, "res": body, "idx": indexer(body)}


def build_batch(first: int, last: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Patient and Immunization documents for patients first..last-1 (run in a worker)."""
    indexer = SearchIndexer(BASE)
    patients: list[dict[str, Any]] = []
    immunizations: list[dict[str, Any]] = []
    for number in range(first, last):
        moment = EPOCH + timedelta(seconds=number)
        patients.append(stored(patient(number), indexer, moment))
        immunizations.extend(stored(immunization(number, dose), indexer, moment)
                             for dose in range(3))
    return patients, immunizations


def _insert(db: Any, patients: list[dict[str, Any]], immunizations: list[dict[str, Any]]
            ) -> None:
    db["Patient"].insert_many(patients, ordered=False)
    db["Immunization"].insert_many(immunizations, ordered=False)


def load(uri: str, first: int, last: int, workers: int) -> float:
    """Insert patients first..last-1 (and their immunizations); seconds taken."""
    started = time.perf_counter()
    client: MongoClient[dict[str, Any]] = MongoClient(uri)
    db = client["bench"]
    ranges = [(a, min(a + BATCH, last)) for a in range(first, last, BATCH)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[tuple[list[dict[str, Any]], list[dict[str, Any]]]]] = deque()
        for start, end in ranges:
            pending.append(pool.submit(build_batch, start, end))
            if len(pending) > workers * 2:  # a bounded window keeps memory flat
                _insert(db, *pending.popleft().result())
        while pending:
            _insert(db, *pending.popleft().result())
    client.close()
    return time.perf_counter() - started


def latencies(client: Any, urls: Iterator[str], count: int, expect: int) -> list[float]:
    """Milliseconds per request (after checking each answer's size)."""
    found = []
    for _ in range(count):
        url = next(urls)
        started = time.perf_counter()
        response = client.get(url)
        found.append((time.perf_counter() - started) * 1000)
        body = response.get_json()
        assert response.status_code == 200 and body["total"] == expect, (url, body)
    return found


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of the values lie."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure(app: Any, patients: int, queries: int, rounds: int
            ) -> dict[str, tuple[float, float]]:
    """p50/p95 of both searches (median over rounds, to damp noise from other processes)."""
    found = [_measure_once(app, patients, queries, seed) for seed in range(rounds)]
    return {label: (statistics.median(f[label][0] for f in found),
                    statistics.median(f[label][1] for f in found)) for label in found[0]}


def _measure_once(app: Any, patients: int, queries: int, seed: int
                  ) -> dict[str, tuple[float, float]]:
    client = app.test_client()
    rng = random.Random(patients * 100 + seed)

    def scoped() -> Iterator[str]:
        while True:
            yield f"/Immunization?patient=Patient/p{rng.randrange(patients):08d}"

    def by_identifier() -> Iterator[str]:
        while True:
            yield f"/Patient?identifier={CCCD}|{rng.randrange(patients):012d}"

    figures = {}
    for label, urls, expect in (("Immunization?patient=X", scoped(), 3),
                                ("Patient?identifier=sys|value", by_identifier(), 1)):
        latencies(client, urls, 20, expect)  # warm up
        found = latencies(client, urls, queries, expect)
        figures[label] = (statistics.median(found), percentile(found, 0.95))
    return figures


def open_app(uri: str, tmp: Path) -> Any:
    """The app on the bench database: no authentication, no auditing, files under tmp."""
    return create_app(Settings.from_env(
        {}, mongodb_uri=uri, database="bench", base_url=BASE, auth_required=False, audit="off",
        auth_key_dir=str(tmp / "auth-keys"), shc_key_dir=str(tmp / "shc-keys"),
        sms_gateway=f"file:{tmp}/sms.jsonl", sms_retry_seconds=0))


def extraction_cost() -> tuple[float, float]:
    """Microseconds the indexer takes per Patient and per Immunization."""
    indexer = SearchIndexer(BASE)
    costs = []
    for make in (lambda n: patient(n), lambda n: immunization(n, 1)):
        resources = [make(n) for n in range(2000)]
        started = time.perf_counter()
        for resource in resources:
            indexer(resource)
        costs.append((time.perf_counter() - started) / len(resources) * 1e6)
    return costs[0], costs[1]


def main() -> int:
    """Load, measure at each size, print the figures and the growth ratios."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(sys.argv[1:] if __name__ == "__main__" else [])
    patient_cost, immunization_cost = extraction_cost()
    print(f"index extraction: Patient {patient_cost:.0f} us, Immunization "
          f"{immunization_cost:.0f} us per resource", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-search-"))
    results: list[tuple[int, dict[str, tuple[float, float]]]] = []
    try:
        with EmbeddedStore(tmp / "data", log_path=tmp / "db.log") as server:
            app = open_app(server.uri, tmp)  # creates the search indexes before the bulk load
            loaded = 0
            for size in sorted(args.sizes):
                target = size // 4  # 1 Patient : 3 Immunizations
                seconds = load(server.uri, loaded, target, args.workers)
                added = (target - loaded) * 4
                print(f"loaded {added} resources in {seconds:.0f} s ({added / seconds:.0f}/s); "
                      f"{target * 4} stored", flush=True)
                loaded = target
                figures = measure(app, loaded, args.queries, args.rounds)
                results.append((loaded * 4, figures))
                for label, (p50, p95) in figures.items():
                    print(f"  {loaded * 4:>9} resources  {label:30} p50 {p50:7.2f} ms   "
                          f"p95 {p95:7.2f} ms", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if len(results) > 1:
        (small, first), (large, last) = results[0], results[-1]
        for label in first:
            p50 = last[label][0] / first[label][0]
            p95 = last[label][1] / first[label][1]
            print(f"growth {small} -> {large}: {label:30} p50 x{p50:.2f}   p95 x{p95:.2f}   "
                  "(goal <= 1.3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
