"""Cost of authentication: token verification per request, login throughput, and the read
latency with a valid token next to the same read without auth, measured in the same run.

Goal (issue: accounts): a request with a valid token adds <= 15 % to the read latency.
Every request touching personal data is audited whoever asks (FHIR_AUDIT=all, the default), so
both sides of that comparison store one AuditEvent per read; a third server with FHIR_AUDIT=off
shows what the auditing itself costs.
Run: .venv/bin/python bench/bench_auth.py [--requests N] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pymongo import MongoClient  # noqa: E402

from bench.http_load import LoadResult, Request, run_load  # noqa: E402
from bench.servers import settle, start_server, stop_server  # noqa: E402
from fhir_server.auth.passwords import hash_password  # noqa: E402
from fhir_server.auth.tokens import TokenSigner, load_or_create_key  # noqa: E402
from fhir_server.embedded import EmbeddedStore  # noqa: E402

HEADERS = {"Accept": "application/fhir+json"}
SERVERS = {"open": {"FHIR_AUTH_REQUIRED": "0"}, "token": {"FHIR_AUTH_REQUIRED": "1"},
           "unaudited": {"FHIR_AUTH_REQUIRED": "0", "FHIR_AUDIT": "off"}}


def _per_call_us(call: object, rounds: int) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        call()  # type: ignore[operator]
    return (time.perf_counter() - started) / rounds * 1e6


def _median(results: list[LoadResult]) -> LoadResult:
    return sorted(results, key=lambda r: r.percentile(0.5))[(len(results) - 1) // 2]


def main() -> int:
    """Run the benchmark and print figures and ratios."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args(sys.argv[1:] if __name__ == "__main__" else [])
    tmp = Path(tempfile.mkdtemp(prefix="bench-auth-"))
    keys = tmp / "auth-keys"
    signer = TokenSigner(load_or_create_key(keys), "https://bench")
    token = signer.issue({"sub": "bench", "kind": "system", "scope": "system/*.read"}, 3600)
    uncached = _per_call_us(lambda: signer._verify_signature(token), 3000)
    cached = _per_call_us(lambda: signer.verify(token), 30000)
    print(f"token verification: {uncached:7.1f} us first sight (ES256), "
          f"{cached:5.2f} us when seen before (LRU)")
    with EmbeddedStore(tmp / "data", log_path=tmp / "db.log") as store:
        key_dir, sms = str(keys), f"file:{tmp}/sms.jsonl"
        open_server, open_port = start_server(store.uri, tmp / "open.log",
                                              FHIR_AUTH_REQUIRED="0", FHIR_AUTH_KEY_DIR=key_dir,
                                              FHIR_SMS_GATEWAY=sms)
        try:
            created = run_load("127.0.0.1", open_port, lambda n: (
                "POST", "/Patient", json.dumps({"resourceType": "Patient", "gender": "male"}
                                               ).encode(),
                {"Content-Type": "application/fhir+json"}), 200, 4, 201)
            assert created.errors == 0
        finally:
            stop_server(open_server)
        client: MongoClient[dict[str, Any]]
        with MongoClient(store.uri) as client:
            ids = [str(i) for i in client["bench"]["Patient"].distinct("_id")]
        servers = {name: start_server(store.uri, tmp / f"{name}.log", 2, 4,
                                      FHIR_AUTH_KEY_DIR=key_dir,
                                      FHIR_SMS_GATEWAY=sms, FHIR_BASE_URL="https://bench",
                                      **env)
                   for name, env in SERVERS.items()}
        try:
            auth_headers = {**HEADERS, "Authorization": f"Bearer {token}"}
            runs: dict[str, list[LoadResult]] = {name: [] for name in SERVERS}
            for round_number in range(args.rounds):  # interleaved, the order rotating
                names = list(SERVERS)[round_number % 3:] + list(SERVERS)[:round_number % 3]
                for name in names:
                    if store.process is not None:  # the last run's audit backlog is stored
                        settle(store.process.pid)
                    runs[name].append(run_load(
                        "127.0.0.1", servers[name][1],
                        _reads(ids, auth_headers if name == "token" else HEADERS),
                        args.requests, args.clients))
            logins = _login_rate(servers["token"][1], store.uri)
        finally:
            for process, _port in servers.values():
                stop_server(process)
    base, authed, bare = (_median(runs[name]) for name in ("open", "token", "unaudited"))
    errors = sum(r.errors for results in runs.values() for r in results)
    print(f"read without auth           : p50 {base.percentile(0.5):6.2f} ms  "
          f"{base.rate:7.0f} req/s  (audited: one AuditEvent per read)")
    print(f"read with token             : p50 {authed.percentile(0.5):6.2f} ms  "
          f"{authed.rate:7.0f} req/s  (audited: one AuditEvent per read)")
    print(f"added latency of the token  : {authed.percentile(0.5) / base.percentile(0.5) - 1:+6.1%}"
          f"   (goal <= +15 %)   errors {errors}")
    print(f"read without auth, no audit : p50 {bare.percentile(0.5):6.2f} ms  "
          f"{bare.rate:7.0f} req/s  (FHIR_AUDIT=off)")
    print(f"cost of auditing every read : {base.percentile(0.5) / bare.percentile(0.5) - 1:+6.1%}"
          f" p50 without auth, {authed.percentile(0.5) / bare.percentile(0.5) - 1:+6.1%} "
          f"with token (AuditEvent storage: {args.clients} clients, same machine as the database)")
    print(f"login throughput            : {logins:6.1f} logins/s (argon2id verify, 4 clients)")
    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if errors else 0


def _reads(ids: list[str], headers: dict[str, str]) -> Request:
    """GET /Patient/{id} over the ids, with these headers."""
    return lambda n: ("GET", f"/Patient/{ids[n % len(ids)]}", None, headers)


def _login_rate(port: int, uri: str) -> float:
    """Logins per second against the secured server (one staff account, argon2id)."""
    from pymongo import MongoClient

    client: MongoClient[dict[str, Any]]
    with MongoClient(uri) as client:
        client["bench"]["_accounts"].insert_one({  # type: ignore[arg-type]
            "_id": "bench-staff", "phone": "+84900111222", "name": "Bench", "kind": "staff",
            "roles": ["admin"], "password": hash_password("BenchLogin2021"),
            "status": "active"})
    body = json.dumps({"username": "0900111222", "password": "BenchLogin2021"}).encode()
    result = run_load("127.0.0.1", port, lambda n: (
        "POST", "/auth/login", body, {"Content-Type": "application/json"}), 40, 4)
    return result.rate if result.errors == 0 else 0.0


if __name__ == "__main__":
    sys.exit(main())
