"""The peer bench (issue 17 point 4: a same-run comparison with sekmet, the CPU split per operation
from /proc, the goal "our API CPU per operation <= 1/2 of sekmet's whole-server CPU"): its pure
parts — ids read back from transaction responses (FHIR R4 §3.1.0.11.2 transaction-response
`entry.response.location`), the requests of each operation, the CPU arithmetic, spreads over
rounds, the verdict, sekmet's configuration (validating, on disk) and the peer venv's stamp."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from bench import peer_setup
from bench.bench_peers import report
from bench.peer_servers import sekmet_settings, sqlite_facts
from bench.peer_workload import (
    GOAL,
    OPERATIONS,
    Spread,
    Workload,
    cpu_per_operation,
    load_workload,
    location_id,
    patient_id,
    person,
    request_maker,
    spread,
    summarise,
    verdict,
)
from bench.report import parse_records

WORKLOAD = Workload((b'{"a": 1}', b'{"b": 2}'), 12, (("Nguyễn", "1985-03-12"),
                                                      ("Abbott774", "2001-01-30")))


def test_location_id_reads_relative_and_absolute_locations() -> None:
    assert location_id("Patient/abc/_history/1", "Patient") == "abc"
    assert location_id("http://127.0.0.1:8090/fhir/Patient/a-1/_history/3", "Patient") == "a-1"
    assert location_id("Immunization/xyz/_history/1", "Patient") is None
    assert location_id("Patient/_history", "Patient") is None


def test_patient_id_is_the_patient_entry_of_a_transaction_response() -> None:
    response = {"resourceType": "Bundle", "type": "transaction-response", "entry": [
        {"response": {"status": "201 Created", "location": "Organization/o1/_history/1"}},
        {"response": {"status": "201 Created", "location": "Patient/p7/_history/1"}},
        {"response": {"status": "201 Created"}}]}
    assert patient_id(response) == "p7"
    with pytest.raises(ValueError, match="no Patient location"):
        patient_id({"type": "transaction-response", "entry": [response["entry"][0]]})


def test_person_is_the_family_and_birth_date_of_the_bundles_patient() -> None:
    bundle = {"entry": [{"resource": {"resourceType": "Organization"}},
                        {"resource": {"resourceType": "Patient", "birthDate": "1990-02-03",
                                      "name": [{"family": "Trần", "given": ["Bình"]}]}}]}
    assert person(bundle) == ("Trần", "1990-02-03")
    with pytest.raises(ValueError):
        person({"entry": []})


def test_load_workload_counts_resources_and_people(tmp_path: Path) -> None:
    for number, family in enumerate(["B", "A"]):
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"resource": {"resourceType": "Patient", "name": [{"family": family}],
                          "birthDate": f"200{number}-01-01"}},
            {"resource": {"resourceType": "Immunization"}}]}
        (tmp_path / f"{family}.json").write_text(json.dumps(bundle), "utf-8")
    workload = load_workload(tmp_path)
    assert workload.resources == 4 and workload.people == (("A", "2001-01-01"),
                                                           ("B", "2000-01-01"))
    assert load_workload(tmp_path, limit=1).people == (("A", "2001-01-01"),)
    with pytest.raises(FileNotFoundError):
        load_workload(tmp_path / "none")


def test_requests_are_the_same_on_both_base_paths() -> None:
    ids = ["p1", "p2"]
    ours = {op: request_maker(op, "", WORKLOAD, ids) for op in OPERATIONS}
    peer = {op: request_maker(op, "/fhir", WORKLOAD, ids) for op in OPERATIONS}
    assert ours["ingest"](1) == ("POST", "/", b'{"b": 2}', ours["ingest"](1)[3])
    assert peer["ingest"](2)[:3] == ("POST", "/fhir", b'{"a": 1}')
    assert ours["ingest"](0)[3]["Prefer"] == "return=minimal"
    assert ours["read"](3)[:2] == ("GET", "/Patient/p2")
    assert peer["read"](3)[:2] == ("GET", "/fhir/Patient/p2")
    assert ours["immunizations"](0)[1] == "/Immunization?patient=Patient/p1"
    assert peer["family-birthdate"](0)[1] == (
        "/fhir/Patient?family=Nguy%E1%BB%85n&birthdate=1985-03-12")
    assert ours["family-birthdate"](1)[1] == "/Patient?family=Abbott774&birthdate=2001-01-30"
    with pytest.raises(ValueError, match="unknown operation"):
        request_maker("delete", "", WORKLOAD, ids)


def test_cpu_per_operation_is_microseconds_from_proc_seconds() -> None:
    assert cpu_per_operation(10.0, 10.5, 200) == pytest.approx(2500.0)
    assert cpu_per_operation(3.0, 3.0, 10) == 0.0
    assert cpu_per_operation(3.0, 2.99, 10) == 0.0  # a process gone: never negative
    with pytest.raises(ValueError):
        cpu_per_operation(0.0, 1.0, 0)


def test_spread_is_min_lower_median_max() -> None:
    assert spread([5.0, 1.0, 3.0]) == Spread(1.0, 3.0, 5.0)
    assert spread([4.0, 1.0, 3.0, 2.0]).median == 2.0
    assert Spread(1234.4, 2000.0, 3000.6).text() == "1,234/2,000/3,001"
    with pytest.raises(ValueError):
        spread([])


def test_verdict_holds_at_half_the_peers_cpu_or_less() -> None:
    assert GOAL == 0.5
    assert verdict(500.0, 1000.0) == (0.5, True)
    assert verdict(2322.0, 1496.0)[1] is False
    assert verdict(1.0, 0.0) == (None, False)


def test_summarise_adds_the_peers_database_share_to_its_whole_server() -> None:
    ours = [(100.0, 2000.0, 6000.0), (90.0, 2400.0, 6200.0), (110.0, 2200.0, 5000.0)]
    peer = [(300.0, 1400.0, 0.0), (250.0, 1500.0, 0.0), (330.0, 1300.0, 100.0)]
    found = summarise(ours, peer)
    assert found.rate == Spread(90.0, 100.0, 110.0)
    assert found.database_us.median == 6000.0 and found.peer_us.median == 1400.0
    assert found.speed == pytest.approx(100 / 300)
    assert found.share == pytest.approx(2200 / 1400) and not found.holds
    assert summarise([(1.0, 600.0, 0.0)], [(1.0, 1300.0, 0.0)]).holds


def test_report_emits_figures_table_and_the_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    results = {(name, op): [(100.0, 500.0, 900.0)] if name == "ours" else [(200.0, 1000.0, 0.0)]
               for name in ("ours", "sekmet") for op in OPERATIONS}
    assert report(results, 1, []) is True
    results["ours", "read"] = [(100.0, 700.0, 900.0)]
    assert report(results, 1, ["immunizations"]) is False
    out = capsys.readouterr().out
    assert ("goal (issue 17): our API CPU per operation <= 0.5 x sekmet's whole server: "
            "transaction ingest 0.50 holds (throughput ours/sekmet 0.50); read Patient by id "
            "0.70 missed") in out
    figures, tables = parse_records(out, "peers")
    cpu = [f for f in figures if f.name == "peer read Patient by id: our API CPU per op"]
    assert [f.ratio for f in cpu] == [0.5, 0.7]
    assert "goal ≤ 0.5: missed" in cpu[1].note and "our database 900 µs" in cpu[1].note
    speed = [f for f in figures if f.name == "peer transaction ingest: our throughput"][0]
    assert speed.value == 100.0 and speed.ratio == 0.5 and "(1 round)" in speed.note
    rows = {row[0]: row for row in tables[1].rows}
    assert rows["read Patient by id"][-1] == "missed"
    assert rows["Immunization?patient="][-1] == "holds (answers differ)"
    assert rows["transaction ingest"][3] == "0.50"


def test_sekmet_is_configured_to_validate_and_write_to_disk(tmp_path: Path) -> None:
    settings = sekmet_settings(8123, tmp_path / "data")
    assert settings["validation"] == {"inbound": "strict"}
    assert settings["db_path"] == str(tmp_path / "data" / "sekmet.db")
    assert settings["base_url"] == "http://127.0.0.1:8123/fhir" and settings["port"] == 8123
    assert settings["server_auth"] == {"types": ["none"]} and settings["log_inbound"] is False
    assert sekmet_settings(1, tmp_path, traffic_log=True)["log_inbound"] is True


def test_sqlite_facts_reads_the_journal_mode_and_resources(tmp_path: Path) -> None:
    path = tmp_path / "sekmet.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE resources (type TEXT, id TEXT, deleted INTEGER)")
        db.executemany("INSERT INTO resources VALUES (?, ?, ?)",
                       [("Patient", "a", 0), ("Patient", "b", 1), ("Immunization", "c", 0)])
    assert sqlite_facts(path).startswith("journal_mode=wal, synchronous=")
    assert sqlite_facts(path).endswith("2 resources on disk")


def test_peer_venv_counts_as_installed_only_with_todays_stamp(tmp_path: Path) -> None:
    assert peer_setup.SEKMET in peer_setup.requirements()
    assert any(r.startswith("fhir.resources==") for r in peer_setup.requirements())
    assert not peer_setup.installed(tmp_path)
    python = peer_setup.venv_python(tmp_path)
    python.parent.mkdir(parents=True)
    python.write_text("", "utf-8")
    peer_setup.stamp(tmp_path).write_text("sekmet-fhir==0.0.1\n", "utf-8")
    assert not peer_setup.installed(tmp_path)
    peer_setup.stamp(tmp_path).write_text(" ".join(peer_setup.requirements()), "utf-8")
    assert peer_setup.installed(tmp_path)
