"""The fhir-server command: seed, and serve on the embedded store (README promises)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from pymongo import MongoClient

from fhir_server.cli import main
from fhir_server.embedded import free_port
from fhir_server.seed import demo_resources


def test_seed_loads_demo_data_once(mongo_uri: str, monkeypatch: pytest.MonkeyPatch,
                                   tmp_path: Path) -> None:
    database = f"seed_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("FHIR_HOME", str(tmp_path))  # its keys and SMS file, not the repo's var/
    monkeypatch.setenv("MONGODB_URI", mongo_uri)
    monkeypatch.setenv("FHIR_DATABASE", database)
    monkeypatch.setenv("FHIR_LOAD_CONFORMANCE", "0")
    assert main(["seed"]) == 0
    assert main(["seed"]) == 0  # idempotent: nothing is created twice
    with MongoClient(mongo_uri) as client:
        db = client[database]
        assert db["Patient"].count_documents({}) == 4
        # the demo data, plus the next-dose proposal and the in-app notice of the dose
        # whose SMS waits (issue 14 point 12), and the demo booking's confirmation notice
        # (an after-write effect), each written once
        assert db["history"].count_documents({}) == len(demo_resources()) + 3
        assert db["Communication"].count_documents({}) == 2
        client.drop_database(database)


def _wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "server exited early"
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer")


def _serve(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("MONGODB_URI", "FHIR_DATABASE")}
    env.setdefault("FHIR_HOME", str(data_dir.parent / "home"))  # not the checkout's var/
    return subprocess.Popen(
        [sys.executable, "-m", "fhir_server.cli", "--data-dir", str(data_dir), "serve",
         "--seed", "--port", str(port), "--workers", "1"],
        stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env, start_new_session=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise


# `make run`: serve with no MONGODB_URI starts the embedded store, seeds, and data persists
def test_serve_embedded_store_persists(tmp_path: Path) -> None:
    if os.environ.get("MONGODB_URI"):
        pytest.skip("checks the embedded default; MONGODB_URI points at another server")
    data_dir, log = tmp_path / "mongo", tmp_path / "serve.log"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = _serve(data_dir, port, log)
    try:
        _wait_for(f"{base}/metadata", process)
        assert requests.get(f"{base}/Patient/demo-nguyen-van-an", timeout=5).status_code == 401
        citizen = requests.post(f"{base}/auth/login", json={
            "username": "0912345678", "password": "DemoCitizen2021"}, timeout=10).json()
        own = {"Authorization": f"Bearer {citizen['access_token']}"}
        patient = requests.get(f"{base}/Patient/demo-nguyen-van-an", headers=own, timeout=5)
        assert patient.status_code == 200 and patient.json()["birthDate"] == "1985-03-12"
        assert requests.get(f"{base}/Patient/demo-tran-thi-binh", headers=own,
                            timeout=5).status_code == 404
        admin = requests.post(f"{base}/auth/login", json={
            "username": "0900000001", "password": "DemoAdmin2021"}, timeout=10).json()
        headers = {"Authorization": f"Bearer {admin['access_token']}",
                   "Content-Type": "application/fhir+json"}
        created = requests.post(f"{base}/Patient", json={"resourceType": "Patient"},
                                headers=headers, timeout=5)
        assert created.status_code == 201
        new_id = created.json()["id"]
        people = _demo_campaign_people(base)
        assert people > 300  # the demo campaign of the dashboard (most of its 400 people)
    finally:
        _stop(process)
    still_running = subprocess.run(["pgrep", "-f", f"--storage-path {data_dir.resolve()}"],
                                   capture_output=True, text=True).stdout
    assert still_running == "", "the embedded store must stop with the server"
    process = _serve(data_dir, port, log)
    try:
        _wait_for(f"{base}/metadata", process)
        assert requests.get(f"{base}/Patient/{new_id}", headers=headers,
                            timeout=5).status_code == 200
        assert _demo_campaign_people(base) == people  # seeded once, not on every start
    finally:
        _stop(process)


def _demo_campaign_people(base: str) -> int:
    """People with a dose, as the analyst's coverage indicator counts them."""
    analyst = requests.post(f"{base}/auth/login", json={
        "username": "0900000003", "password": "DemoAnalyst2021"}, timeout=10).json()
    report = requests.get(f"{base}/MeasureReport/$vaccination-coverage", timeout=30, headers={
        "Authorization": f"Bearer {analyst['access_token']}"}).json()
    group = next(g for g in report["group"] if g["code"]["coding"][0]["code"] == "people_1plus")
    return int(next(p["count"] for p in group["population"]
                    if p["code"]["text"] == "people_1plus"))


# `fhir-server keys|card|verify`: issue a card from the database and verify it offline
def test_keys_card_verify(mongo_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    database = f"card_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("FHIR_HOME", str(tmp_path / "home"))  # not the checkout's var/
    monkeypatch.setenv("MONGODB_URI", mongo_uri)
    monkeypatch.setenv("FHIR_DATABASE", database)
    monkeypatch.setenv("FHIR_LOAD_CONFORMANCE", "0")
    monkeypatch.setenv("FHIR_SERVER_SHC_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("FHIR_SERVER_SHC_ISSUER", "https://vaccine.example.vn")
    assert main(["keys", "create"]) == 0
    assert main(["keys", "list"]) == 0
    assert main(["seed"]) == 0
    assert main(["card", "demo-nguyen-van-an", "--out", str(tmp_path / "out")]) == 0
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["demo-nguyen-van-an-0.png", "demo-nguyen-van-an-0.svg",
                       "demo-nguyen-van-an-0.txt", "demo-nguyen-van-an.smart-health-card"]
    capsys.readouterr()
    assert main(["verify", str(tmp_path / "out" / "demo-nguyen-van-an-0.png")]) == 0
    assert "verdict: VALID" in capsys.readouterr().out
    assert main(["keys", "rotate"]) == 0
    assert main(["verify", str(tmp_path / "out" / "demo-nguyen-van-an.smart-health-card")]) == 0
    bad = tmp_path / "bad.txt"
    bad.write_text("shc:/5676290952432060346029243740")
    assert main(["verify", str(bad)]) == 1
    assert "private" not in (tmp_path / "keys").name
    with MongoClient(mongo_uri) as client:
        client.drop_database(database)


# `fhir-server token`: a system token for scripts, accepted by the server that shares the key
def test_token_command(make_app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                       capsys: pytest.CaptureFixture[str]) -> None:
    key_dir = tmp_path / "auth"
    monkeypatch.setenv("FHIR_AUTH_KEY_DIR", str(key_dir))
    monkeypatch.setenv("FHIR_BASE_URL", "https://fhir.test/fhir")
    assert main(["token", "--scope", "system/*.*", "--ttl", "10m"]) == 0
    token = capsys.readouterr().out.strip()
    app = make_app(auth_required=True, auth_key_dir=str(key_dir))
    client = app.test_client()
    assert client.get("/Patient", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 200
    assert client.get("/Patient").status_code == 401
    assert main(["token", "--scope", "patient/*.read"]) == 2


# Issue 12 point 12a: seeding (`seed`, `serve --seed`) leaves no SMS retry thread running
def test_seed_leaves_no_retry_thread(mongo_uri: str, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    database = f"seedthr_{uuid.uuid4().hex[:8]}"
    for name, value in (("MONGODB_URI", mongo_uri), ("FHIR_DATABASE", database),
                        ("FHIR_LOAD_CONFORMANCE", "0"), ("FHIR_HOME", str(tmp_path)),
                        ("FHIR_SMS_RETRY_SECONDS", "30")):
        monkeypatch.setenv(name, value)
    assert main(["seed"]) == 0
    assert [t.name for t in threading.enumerate() if t.name == "sms-outbox"] == []
    with MongoClient(mongo_uri) as client:
        client.drop_database(database)


# Issue 12 point 12d: the pass-through commands answer --help (exit 0)
def test_verify_and_keys_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--help"]) == 0
    assert "usage: fhir-server verify" in capsys.readouterr().out
    assert main(["keys", "-h"]) == 0
    assert "usage: fhir-server keys" in capsys.readouterr().out


# Issue 12 point 12e: keys go to FHIR_HOME whatever the current directory, and the CLI says so
def test_keys_live_in_fhir_home_not_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for name in ("FHIR_AUTH_KEY_DIR", "FHIR_SERVER_SHC_KEY_DIR", "FHIR_SERVER_SHC_ISSUER"):
        monkeypatch.setenv(name, "")  # recorded, so what the CLI sets is undone after the test
        monkeypatch.delenv(name)
    monkeypatch.setenv("FHIR_HOME", str(home))
    assert main(["token", "--scope", "system/*.read"]) == 0
    assert main(["keys", "create"]) == 0
    assert list(elsewhere.iterdir()) == []
    assert (home / "auth-keys").is_dir() and (home / "keys").is_dir()
    told = capsys.readouterr().err
    assert f"created access-token signing key and OTP secret in {home / 'auth-keys'}" in told
    assert f"created health-card issuer keys in {home / 'keys'}" in told
    monkeypatch.setenv("FHIR_AUTH_KEY_DIR", "relative-keys")  # relative: inside FHIR_HOME
    assert main(["token", "--scope", "system/*.read"]) == 0
    assert (home / "relative-keys").is_dir() and list(elsewhere.iterdir()) == []
