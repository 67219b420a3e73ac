"""Cost of authentication: token verification per request, login throughput, and the read
latency with a valid token next to the same read without auth, measured in the same run.

Goal (issue: accounts): a request with a valid token adds <= 15 % to the read latency.
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

from bench.http_load import LoadResult, run_load  # noqa: E402
from bench.servers import start_server, stop_server  # noqa: E402
from fhir_server.auth.passwords import hash_password  # noqa: E402
from fhir_server.auth.tokens import TokenSigner, load_or_create_key  # noqa: E402
from fhir_server.embedded import EmbeddedStore  # noqa: E402

HEADERS = {"Accept": "application/fhir+json"}


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
    parser.add_argument("--rounds", type=int, default=3)
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
            ids = [d["_id"] for d in client["bench"]["Patient"].find({}, {"_id": 1})]
        open_server, open_port = start_server(store.uri, tmp / "open.log",
                                              FHIR_AUTH_REQUIRED="0", FHIR_AUTH_KEY_DIR=key_dir,
                                              FHIR_SMS_GATEWAY=sms)
        secured, secured_port = start_server(store.uri, tmp / "secured.log",
                                             FHIR_AUTH_REQUIRED="1",
                                             FHIR_BASE_URL="https://bench",
                                             FHIR_AUTH_KEY_DIR=key_dir, FHIR_SMS_GATEWAY=sms)
        try:
            auth_headers = {**HEADERS, "Authorization": f"Bearer {token}"}
            plain, with_token = [], []
            for _ in range(args.rounds):
                plain.append(run_load("127.0.0.1", open_port, lambda n: (
                    "GET", f"/Patient/{ids[n % len(ids)]}", None, HEADERS),
                    args.requests, args.clients))
                with_token.append(run_load("127.0.0.1", secured_port, lambda n: (
                    "GET", f"/Patient/{ids[n % len(ids)]}", None, auth_headers),
                    args.requests, args.clients))
            logins = _login_rate(secured_port, store.uri)
        finally:
            stop_server(open_server)
            stop_server(secured)
    base, authed = _median(plain), _median(with_token)
    errors = sum(r.errors for r in plain + with_token)
    print(f"read without auth : p50 {base.percentile(0.5):6.2f} ms  {base.rate:7.0f} req/s")
    print(f"read with token   : p50 {authed.percentile(0.5):6.2f} ms  {authed.rate:7.0f} req/s"
          f"  (+ audit event per read, written off the request path)")
    print(f"added latency     : {authed.percentile(0.5) / base.percentile(0.5) - 1:+6.1%}"
          f"   (goal <= +15 %)   errors {errors}")
    print(f"login throughput  : {logins:6.1f} logins/s (argon2id verify, 4 clients)")
    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if errors else 0


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
