"""Hospital search latency as the store grows (issue 13): `Observation?patient=X&code=sys|Y`.

Goal: p50 and p95 grow at most 1.3x from 10k to 200k stored Observations. Each Patient has 20
Observations, two of each of 10 LOINC vital-sign codes, so every query answers exactly 2. The
Observations are bulk-loaded as the store writes them (the same SearchIndexer builds their
`idx`, bench_search.stored) with insert_many; the searches go through the app's test client
without authentication or auditing (FHIR_AUDIT=off), after a warm-up.
Run: .venv/bin/python bench/bench_observation_search.py [--sizes 10000 200000] [--queries 200]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pymongo import MongoClient  # noqa: E402

from bench.bench_search import (  # noqa: E402
    BASE,
    EPOCH,
    latencies,
    open_app,
    patient,
    percentile,
    stored,
)
from fhir_server.embedded import EmbeddedStore  # noqa: E402
from fhir_server.search.extract import SearchIndexer  # noqa: E402

LOINC = "http://loinc.org"
CODES = [("8867-4", "Heart rate", "/min"), ("9279-1", "Respiratory rate", "/min"),
         ("8310-5", "Body temperature", "Cel"), ("8480-6", "Systolic blood pressure", "mm[Hg]"),
         ("8462-4", "Diastolic blood pressure", "mm[Hg]"), ("29463-7", "Body weight", "kg"),
         ("8302-2", "Body height", "cm"), ("39156-5", "Body mass index", "kg/m2"),
         ("2708-6", "Oxygen saturation", "%"), ("2339-0", "Glucose", "mg/dL")]
PER_PATIENT = 20  # two of each code
BATCH = 500  # patients per insert


def observation(number: int, nth: int) -> dict[str, Any]:
    """The nth vital sign of patient `number` (Synthea-like shape)."""
    code, text, unit = CODES[nth % len(CODES)]
    return {"resourceType": "Observation", "id": f"o{number:08d}-{nth:02d}", "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                                "observation-category", "code": "vital-signs"}]}],
            "code": {"coding": [{"system": LOINC, "code": code, "display": text}], "text": text},
            "subject": {"reference": f"Patient/p{number:08d}"},
            "effectiveDateTime": f"2021-{1 + nth % 12:02d}-{1 + number % 28:02d}T09:00:00+07:00",
            "valueQuantity": {"value": 60 + (number + nth) % 90, "unit": unit,
                              "system": "http://unitsofmeasure.org", "code": unit}}


def load(uri: str, first: int, last: int) -> float:
    """Insert patients first..last-1 with their Observations; seconds taken."""
    indexer = SearchIndexer(BASE)
    started = time.perf_counter()
    client: MongoClient[dict[str, Any]] = MongoClient(uri)
    db = client["bench"]
    for start in range(first, last, BATCH):
        numbers = range(start, min(start + BATCH, last))
        moment = EPOCH + timedelta(seconds=start)
        db["Patient"].insert_many([stored(patient(n), indexer, moment) for n in numbers],
                                  ordered=False)
        db["Observation"].insert_many([stored(observation(n, k), indexer, moment)
                                       for n in numbers for k in range(PER_PATIENT)],
                                      ordered=False)
    client.close()
    return time.perf_counter() - started


def measure(app: Any, patients: int, queries: int, seed: int) -> tuple[float, float]:
    """p50 and p95 in ms of the patient-and-code search over random patients and codes."""
    client = app.test_client()
    rng = random.Random(patients * 100 + seed)

    def urls() -> Iterator[str]:
        while True:
            code = CODES[rng.randrange(len(CODES))][0]
            yield (f"/Observation?patient=Patient/p{rng.randrange(patients):08d}"
                   f"&code={LOINC}|{code}")

    source = urls()
    latencies(client, source, 20, 2)  # warm up
    found = latencies(client, source, queries, 2)
    return statistics.median(found), percentile(found, 0.95)


def main() -> int:
    """Load, measure at each size, print the figures and the growth ratios."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 200_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(sys.argv[1:] if __name__ == "__main__" else [])
    tmp = Path(tempfile.mkdtemp(prefix="bench-observation-"))
    results: list[tuple[int, float, float]] = []
    try:
        with EmbeddedStore(tmp / "data", log_path=tmp / "db.log") as server:
            app = open_app(server.uri, tmp)  # creates the search indexes before the bulk load
            loaded = 0
            for size in sorted(args.sizes):
                target = size // PER_PATIENT
                seconds = load(server.uri, loaded, target)
                added = (target - loaded) * (PER_PATIENT + 1)
                print(f"loaded {added} resources in {seconds:.0f} s ({added / seconds:.0f}/s); "
                      f"{target * PER_PATIENT} Observations stored", flush=True)
                loaded = target
                rounds = [measure(app, loaded, args.queries, seed) for seed in range(args.rounds)]
                p50 = statistics.median(r[0] for r in rounds)
                p95 = statistics.median(r[1] for r in rounds)
                results.append((loaded * PER_PATIENT, p50, p95))
                print(f"  {loaded * PER_PATIENT:>9} Observations  Observation?patient=X&code=Y "
                      f"p50 {p50:7.2f} ms   p95 {p95:7.2f} ms", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if len(results) > 1:
        (small, p50a, p95a), (large, p50b, p95b) = results[0], results[-1]
        print(f"growth {small} -> {large}: p50 x{p50b / p50a:.2f}   p95 x{p95b / p95a:.2f}   "
              "(goal <= 1.3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
