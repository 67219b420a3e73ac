"""Ingest throughput: the Synthea bundles (reduced to our types) POSTed as transactions over
HTTP under gunicorn, and the same resources imported from NDJSON with the import CLI's code —
next to the same-run cost of plain validation (a fhir.resources parse of the same resources).

Goal (issue 7): transaction ingest >= 30 % of the validation-only rate.
Run: .venv/bin/python bench/bench_ingest.py [--rounds R] [--clients C] [--workers W]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fhir.resources.R4B import get_fhir_model_class  # noqa: E402

from bench.http_load import run_load  # noqa: E402
from bench.servers import session_cpu_seconds, start_server, stop_server  # noqa: E402
from fhir_server.embedded import EmbeddedStore  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared/data/synthea/subset-supported-types"
HEADERS = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json",
           "Prefer": "return=minimal"}


def median(values: list[float]) -> float:
    """The median of a few measurements."""
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]


def validation_rate(resources: list[dict[str, Any]]) -> float:
    """Resources per second of a plain fhir.resources (R4B) parse, one thread."""
    started = time.perf_counter()
    for resource in resources:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return len(resources) / (time.perf_counter() - started)


def stage_rates(resources: list[dict[str, Any]]) -> tuple[float, float]:
    """Resources per second of the server's own validation (fhir.resources + structure checks)
    and of the search-index extraction every write does (one thread, for the breakdown)."""
    from fhir_server.model.parse import validate_resource
    from fhir_server.search.extract import SearchIndexer

    started = time.perf_counter()
    for resource in resources:
        validate_resource(resource)
    validated = len(resources) / (time.perf_counter() - started)
    indexer = SearchIndexer("http://127.0.0.1")
    started = time.perf_counter()
    for resource in resources:
        indexer(resource)
    return validated, len(resources) / (time.perf_counter() - started)


def store_rate(uri: str, bundles: list[dict[str, Any]], database: str, tmp: Path) -> float:
    """Resources per second of the storage layer alone: each bundle's resources written with
    store.create_many per type inside one transaction (search-index extraction included; no
    validation, no HTTP) — the ceiling any transaction path can reach on this database."""
    svc = _services(uri, database, tmp)
    groups = []
    for bundle in bundles:
        by_type: dict[str, list[dict[str, Any]]] = {}
        for entry in bundle["entry"]:
            resource = {k: v for k, v in entry["resource"].items() if k != "id"}
            by_type.setdefault(resource["resourceType"], []).append(resource)
        groups.append(by_type)
    started = time.perf_counter()
    for by_type in groups:
        with svc.store.atomic():
            for type_name, resources in by_type.items():
                svc.store.create_many(type_name, resources)
    return sum(len(r) for g in groups for r in g.values()) / (time.perf_counter() - started)


def raw_rate(uri: str, bundles: list[dict[str, Any]], database: str) -> float:
    """Resources per second of raw pymongo insert_many of the same plain resources, per type and
    bundle, into collections with no index but _id and no history: this database's ceiling."""
    from pymongo import MongoClient

    groups = []
    for bundle in bundles:
        by_type: dict[str, list[dict[str, Any]]] = {}
        for entry in bundle["entry"]:
            resource = entry["resource"]
            by_type.setdefault(resource["resourceType"], []).append(
                {**resource, "_id": str(uuid.uuid4())})
        groups.append(by_type)
    client: MongoClient[dict[str, Any]]
    with MongoClient(uri) as client:
        db: Any = client[database]
        started = time.perf_counter()
        for by_type in groups:
            for type_name, documents in by_type.items():
                db[type_name].insert_many(documents)
        elapsed = time.perf_counter() - started
    return sum(len(d) for g in groups for d in g.values()) / elapsed


def _services(uri: str, database: str, tmp: Path) -> Any:
    from fhir_server import create_app
    from fhir_server.settings import Settings

    settings = Settings.from_env({}, mongodb_uri=uri, database=database, auth_required=False,
                                 auth_key_dir=str(tmp / "keys"),
                                 sms_gateway=f"file:{tmp}/sms.jsonl",
                                 sms_retry_seconds=0)
    return create_app(settings).extensions["fhir"].internal()


def to_ndjson(bundles: list[dict[str, Any]], folder: Path) -> int:
    """Write the bundles' resources as NDJSON files per type (urn:uuid refs -> Type/id)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines: dict[str, list[str]] = {}
    ids = {e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}"
           for bundle in bundles for e in bundle["entry"]}
    for bundle in bundles:
        for entry in bundle["entry"]:
            text = re.sub(r'"(urn:uuid:[^"]+)"',
                          lambda m: json.dumps(ids.get(m.group(1), m.group(1))),
                          json.dumps(entry["resource"], ensure_ascii=False))
            lines.setdefault(entry["resource"]["resourceType"], []).append(text)
    for type_name, rows in lines.items():
        (folder / f"{type_name}.ndjson").write_text("\n".join(rows) + "\n", "utf-8")
    return sum(len(rows) for rows in lines.values())


def import_rate(uri: str, folder: Path, database: str, tmp: Path) -> float:
    """Resources per second of the NDJSON importer (in process, one thread)."""
    from fhir_server.bulk.checkpoint import Checkpoint
    from fhir_server.bulk.importer import Importer, ImportOptions

    svc = _services(uri, database, tmp)
    with (tmp / f"{database}.errors").open("w") as errors:
        stats = Importer(svc, ImportOptions(progress=False), Checkpoint(
            tmp / f"{database}.ckpt", folder), errors).run(folder)
    if stats.failed:
        raise RuntimeError(f"import failed: see {tmp / f'{database}.errors'}")
    return stats.rate


def main() -> int:
    """Run the benchmark and print figures and ratios."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=2, help="passes over the bundles per round")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(sys.argv[1:] if __name__ == "__main__" else [])
    paths = sorted(args.data.glob("*.json"))
    if not paths:
        print(f"no Synthea bundles under {args.data}")
        return 1
    bodies = [path.read_bytes() for path in paths]
    bundles = [json.loads(body) for body in bodies]
    resources = [entry["resource"] for bundle in bundles for entry in bundle["entry"]]
    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    ndjson_count = to_ndjson(bundles, tmp / "ndjson")
    validation: list[float] = []
    http: list[float] = []
    imports: list[float] = []
    stores: list[float] = []
    raws: list[float] = []
    worker_ms: list[float] = []
    database_ms: list[float] = []
    failures = 0
    with EmbeddedStore(tmp / "data", log_path=tmp / "db.log") as store:
        _services(store.uri, "warmup", tmp)  # makes the auth key before the workers race for it
        server, port = start_server(store.uri, tmp / "server.log", args.workers, args.threads,
                                    FHIR_AUTH_REQUIRED="0", FHIR_AUTH_KEY_DIR=str(tmp / "keys"),
                                    FHIR_SMS_GATEWAY=f"file:{tmp}/sms.jsonl",
                                    FHIR_EXPORT_DIR=str(tmp / "export"))
        try:
            request: Callable[[int], Any] = lambda n: (  # noqa: E731
                "POST", "/", bodies[n % len(bodies)], HEADERS)
            run_load("127.0.0.1", port, request, len(bodies), args.clients)  # warm-up
            validation_rate(resources)
            posts = len(bodies) * args.repeat
            for round_number in range(args.rounds):  # interleaved rounds, medians reported
                validation.append(validation_rate(resources))
                assert store.process is not None
                cpu = (session_cpu_seconds(server.pid), session_cpu_seconds(store.process.pid))
                loaded = run_load("127.0.0.1", port, request, posts, args.clients)
                time.sleep(1.0)  # the audit thread's batch lingers; count its work too
                count = len(resources) * args.repeat
                worker_ms.append((session_cpu_seconds(server.pid) - cpu[0]) * 1000 / count)
                database_ms.append((session_cpu_seconds(store.process.pid) - cpu[1]) * 1000
                                   / count)
                failures += loaded.errors + posts - len(loaded.latencies_ms)
                http.append(count / loaded.seconds)
                imports.append(import_rate(store.uri, tmp / "ndjson", f"imp{round_number}", tmp))
                stores.append(store_rate(store.uri, bundles, f"store{round_number}", tmp))
                raws.append(raw_rate(store.uri, bundles, f"raw{round_number}"))
        finally:
            stop_server(server)
    reference = median(validation)
    validated, indexed = stage_rates(resources)
    print(f"{len(bodies)} Synthea transaction bundles x {args.repeat}, {len(resources)} resources "
          f"({ndjson_count} as NDJSON), {args.rounds} interleaved rounds (medians); gunicorn "
          f"{args.workers} workers x {args.threads} threads, {args.clients} clients, SecantusDB "
          f"on loopback, {os.cpu_count()} cores")
    print(f"validation only (fhir.resources parse, 1 thread) {reference:8.0f} resources/s")
    print(f"transactions over HTTP (POST [base])             {median(http):8.0f} resources/s"
          f"   = {median(http) / reference:6.1%} of validation (goal >= 30 %)")
    print(f"  CPU per resource: server workers {median(worker_ms):.2f} ms, database "
          f"{median(database_ms):.2f} ms (FHIR_AUDIT={os.environ.get('FHIR_AUDIT', 'all')})")
    print(f"NDJSON import (fhir-server import code, 1 thread) {median(imports):7.0f} resources/s"
          f"   = {median(imports) / reference:6.1%} of validation")
    print(f"storage layer alone (create_many per type, one transaction per bundle, 1 thread) "
          f"{median(stores):.0f} resources/s: transactions over HTTP reach "
          f"{median(http) / median(stores):.0%} of it")
    print(f"raw pymongo insert_many of the same resources (no index but _id, no history, "
          f"1 thread) {median(raws):.0f} resources/s = {median(raws) / reference:.1%} of "
          f"validation: the database's own ceiling")
    print(f"breakdown (1 thread): server validation {validated:.0f} resources/s, search-index "
          f"extraction {indexed:.0f} resources/s; the rest is the database")
    if failures:
        print(f"{failures} transactions failed (figures invalid); see {tmp / 'server.log'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
