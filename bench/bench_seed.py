"""`fhir-server seed --people N` (issue 15 point 6) on the embedded SecantusDB: people/s and
resources/s through the write path (validation, Repository.create_many per type and chunk),
process CPU seconds, and the raw reference: pymongo insert_many of the same stored documents
into an empty database, measured in the same run. Prints the extrapolation to 100,000 people.
Run: .venv/bin/python bench/bench_seed.py [--people 1000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.servers import session_cpu_seconds  # noqa: E402
from fhir_server.embedded import EmbeddedStore  # noqa: E402

TYPES = ("Organization", "Location", "Practitioner", "Patient", "Appointment", "Immunization",
         "AdverseEvent")


def _services(uri: str, tmp: Path) -> Any:
    from fhir_server import create_app
    from fhir_server.settings import Settings

    settings = Settings.from_env({}, mongodb_uri=uri, database="seed", auth_required=False,
                                 auth_key_dir=str(tmp / "keys"),
                                 sms_gateway=f"file:{tmp}/sms.jsonl", sms_retry_seconds=0)
    return create_app(settings).extensions["fhir"].internal()


def raw_seconds(uri: str, chunk: int) -> tuple[int, float]:
    """Documents and seconds of insert_many of the seeded documents (current + history) into
    another database, in chunks of the same size: this store's ceiling for the same data."""
    from pymongo import MongoClient

    client: MongoClient[dict[str, Any]]
    with MongoClient(uri) as client:
        source, target = client["seed"], client["seed_raw"]
        documents = {name: list(source[name].find({})) for name in (*TYPES, "history")}
        started = time.perf_counter()
        for name, docs in documents.items():
            for first in range(0, len(docs), chunk):
                target[name].insert_many(docs[first:first + chunk], ordered=False)
        return sum(len(d) for d in documents.values()), time.perf_counter() - started


def main() -> int:
    """Seed N people and print the figures."""
    from fhir_server.synthetic.writer import SeedOptions, seed_campaign

    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--rebuild-analytics", action="store_true",
                        help="as `seed --rebuild-analytics`: one analytics rebuild at the end")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name, \
            EmbeddedStore(Path(name) / "data", log_path=Path(name) / "db.log") as store:
        svc = _services(store.uri, Path(name))
        database = os.getsid(store.process.pid) if store.process is not None else 0
        cpu, db_cpu = time.process_time(), session_cpu_seconds(database)
        report = seed_campaign(svc, SeedOptions(args.people, progress=False,
                                                rebuild=args.rebuild_analytics))
        cpu, db_cpu = time.process_time() - cpu, session_cpu_seconds(database) - db_cpu
        total = sum(report.created.values())
        print(report.summary())
        print(f"seed process CPU: {cpu:.1f} s ({1000 * cpu / total:.2f} ms per resource)")
        print(f"database process CPU: {db_cpu:.1f} s ({1000 * db_cpu / total:.2f} ms per "
              f"resource, {1000 * db_cpu / args.people:.1f} ms per person); the seed's own CPU "
              f"alone would give 100,000 people in {100_000 * cpu / args.people / 60:.0f} min")
        documents, seconds = raw_seconds(store.uri, 200)
        print(f"raw insert_many of the same {documents} documents (current + history): "
              f"{seconds:.1f} s = {documents / seconds:.0f} documents/s")
        per_person = report.seconds / args.people
        print(f"extrapolated to 100,000 people: {100_000 * per_person / 60:.0f} min "
              f"(raw inserts alone: {100_000 * seconds / args.people / 60:.0f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
