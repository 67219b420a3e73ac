"""Worker CPU that the one door (the per-request Repository) adds, measured in-process on the
same embedded store in the same run: read by id and a type search, straight through the storage
layer and search service ("raw") and through a Repository bound per request to a citizen (its
binding, the compartment restriction and the check of every resource out), interleaved rounds.
The database runs in its own process, so `time.process_time()` here is the worker's CPU.

Goal (issue "One door to the data"): the repository adds <= 10 % worker CPU per read by id and
per search request. Two baselines are printed: the bare storage call (the strictest: a read by
id is one find_one) and the whole request as a worker serves it (Flask test client with the
citizen's bearer token: authentication, routing, the Repository, JSON out, the AuditEvent
enqueue), so the added CPU is shown both against the store alone and as a share of a request.
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


def _citizen_client(app: Any, svc: Any, citizen: Principal) -> Callable[[str], object]:
    """GET over the app as the citizen (a bearer token minted by the app's own signer)."""
    signer = svc.components["auth"].signer
    token = signer.issue({"sub": citizen.subject, "kind": "citizen", "scope": "patient/*.read",
                          "patient": citizen.patient, "fam": sorted(citizen.patient_ids)}, 3600)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}

    def get(url: str) -> object:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response

    return get


def main() -> int:
    """Print CPU µs per operation, raw vs through the Repository, and the ratio."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-repo-"))
    try:
        with EmbeddedStore(tmp / "data", log_path=tmp / "server.log") as server:
            from fhir_server import create_app
            from fhir_server.settings import Settings

            settings = Settings.from_env({}, mongodb_uri=server.uri, database="bench_repo",
                                         auth_key_dir=str(tmp / "keys"),
                                         audit_spool_dir=str(tmp / "spool"),
                                         sms_gateway=f"file:{tmp}/sms.jsonl",
                                         sms_retry_seconds=0)
            app = create_app(settings)
            svc: Any = app.extensions["fhir"].internal()
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
            web = _citizen_client(app, svc, citizen)
            urls = {"read by id": f"/Patient/{patient.id}",
                    "search": f"/Immunization?patient=Patient/{patient.id}&_count=10"}
            results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in pairs}
            for _ in range(args.rounds):
                for name, (plain, door) in pairs.items():
                    results[name].append((_cpu_per_call(plain, args.requests),
                                          _cpu_per_call(door, args.requests),
                                          _cpu_per_call(lambda u=urls[name]: web(u),
                                                        args.requests)))
            failed = 0
            for name, rounds in results.items():
                plain_cpu, door_cpu, request_cpu = (sorted(r[k] for r in rounds)[len(rounds) // 2]
                                                    for k in range(3))
                added = door_cpu / plain_cpu - 1
                share = (door_cpu - plain_cpu) / request_cpu
                failed += share > 0.10
                print(f"{name}: worker CPU raw {plain_cpu:.0f} µs, through the Repository "
                      f"{door_cpu:.0f} µs per call (median of {args.rounds}) -> "
                      f"{added * 100:+.1f} % of the bare store call; the whole request "
                      f"{request_cpu:.0f} µs -> the Repository adds {share * 100:+.1f} % of a "
                      f"request (goal <= 10 %)")
            return 1 if failed else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
