"""Worker CPU that the one door (the per-request Repository) adds, measured in-process on the
same embedded store in the same run: read by id and a type search, straight through the storage
layer and search service ("raw") and through a Repository bound per request to a citizen (its
binding, the compartment restriction and the check of every resource out), interleaved rounds.
The database runs in its own process, so `time.process_time()` here is the worker's CPU.

Goal (issue "One door to the data"): the repository adds <= 10 % worker CPU per read by id and
per search request.
Run: .venv/bin/python bench/bench_repository.py [--requests N] [--rounds R]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fhir_server.auth.principal import CITIZEN, Principal  # noqa: E402
from fhir_server.auth.scopes import ScopeSet  # noqa: E402
from fhir_server.embedded import EmbeddedStore  # noqa: E402
from fhir_server.search.service import SearchService  # noqa: E402


def _cpu_per_call(action: Callable[[], object], count: int) -> float:
    started = time.process_time()
    for _ in range(count):
        action()
    return (time.process_time() - started) / count * 1e6


def main() -> int:
    """Print CPU µs per operation, raw vs through the Repository, and the ratio."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-repo-"))
    try:
        with EmbeddedStore(tmp / "data", log_path=tmp / "server.log") as server:
            from bench.bench_ingest import _services

            svc: Any = _services(server.uri, "bench_repo", tmp)
            raw = svc.store.store
            patient = raw.create("Patient", {"resourceType": "Patient", "gender": "female"})
            for lot in range(20):
                raw.create("Immunization", {
                    "resourceType": "Immunization", "status": "completed",
                    "vaccineCode": {"text": "COVID-19"}, "occurrenceDateTime": "2021-09-10",
                    "lotNumber": f"L{lot}", "patient": {"reference": f"Patient/{patient.id}"}})
            citizen = Principal(CITIZEN, "acct", ScopeSet.parse("patient/*.read"),
                                frozenset({patient.id}), patient=patient.id)
            params = [("patient", f"Patient/{patient.id}"), ("_count", "10")]
            raw_search = SearchService(raw, svc.settings)

            def via_door_read() -> object:
                return svc.bind(citizen).store.read("Patient", patient.id)

            def via_door_search() -> object:
                return svc.bind(citizen).search.search("Immunization", params)

            pairs = {"read by id": (lambda: raw.read("Patient", patient.id), via_door_read),
                     "search": (lambda: raw_search.search("Immunization", params),
                                via_door_search)}
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in pairs}
            for _ in range(args.rounds):
                for name, (plain, door) in pairs.items():
                    results[name].append((_cpu_per_call(plain, args.requests),
                                          _cpu_per_call(door, args.requests)))
            failed = 0
            for name, rounds in results.items():
                plain_cpu = sorted(r[0] for r in rounds)[len(rounds) // 2]
                door_cpu = sorted(r[1] for r in rounds)[len(rounds) // 2]
                added = door_cpu / plain_cpu - 1
                failed += added > 0.10
                print(f"{name}: worker CPU raw {plain_cpu:.0f} µs, through the Repository "
                      f"{door_cpu:.0f} µs per call (median of {args.rounds}) -> "
                      f"+{added * 100:.1f} % (goal <= 10 %)")
            return 1 if failed else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
