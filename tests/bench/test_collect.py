"""bench/collect.py: the adapters read each bench module's printed figures into the table with
the same-run ratios the issues name (ours vs the raw driver on the same store, growth between
sizes, token and audit overhead...; issue 16 point 7, issue 17). The outputs are real ones."""

from __future__ import annotations

import pytest

from bench.collect import ADAPTERS, collect
from bench.report import Figure

CRUD = """\
300 requests per run, 8 concurrent clients, 1 rounds (medians; ...), 2 cores
FHIR create (POST /Patient)              88 req/s   p50  81.53 ms   p95 145.41 ms   errors 0
FHIR read (GET /Patient/id)             617 req/s   p50   9.80 ms   p95  29.58 ms   errors 0
(a) trivial JSON route /healthz         786 req/s   p50   6.95 ms   p95  28.13 ms   errors 0
(b) raw pymongo insert_one              272 req/s   p50  27.23 ms   p95  59.74 ms   errors 0
(b) raw pymongo find_one               1300 req/s   p50   5.19 ms   p95  12.59 ms   errors 0
read / min(a, b find)      =  78.5%   (goal >= 60 %)
"""
AUTH = """\
read without auth           : p50  15.85 ms      196 req/s  (audited: one AuditEvent per read)
read with token             : p50  15.27 ms      204 req/s  (audited: one AuditEvent per read)
added latency of the token  :  -3.7%   (goal <= +15 %)   errors 0
read without auth, no audit : p50  13.90 ms      238 req/s  (FHIR_AUDIT=off)
login throughput            :   12.5 logins/s (argon2id verify, 4 clients)
"""
INGEST = """\
validation only (fhir.resources parse, 1 thread)     3917 resources/s
transactions over HTTP (POST [base])                  210 resources/s   =   5.4% of validation
  CPU per resource: server workers 1.97 ms, database 3.28 ms (FHIR_AUDIT=all)
NDJSON import (fhir-server import code, 1 thread)      73 resources/s   =   1.9% of validation
storage layer alone (create_many per type, one transaction per bundle, 1 thread) 226 resources/s: \
transactions over HTTP reach 93% of it
raw pymongo insert_many of the same resources (no index but _id, no history, 1 thread) 877 \
resources/s = 22.4% of validation: the database's own ceiling
"""
SEARCH = """\
index extraction: Patient 581 us, Immunization 252 us per resource
loaded 4000 resources in 13 s (300/s); 4000 stored
       4000 resources  Immunization?patient=X         p50    9.24 ms   p95   23.59 ms
       4000 resources  Patient?identifier=sys|value   p50    5.72 ms   p95   10.81 ms
loaded 16000 resources in 65 s (245/s); 20000 stored
      20000 resources  Immunization?patient=X         p50   10.16 ms   p95   22.50 ms
      20000 resources  Patient?identifier=sys|value   p50    8.39 ms   p95   16.21 ms
growth 4000 -> 20000: Immunization?patient=X         p50 x1.10   p95 x0.95   (goal <= 1.3)
"""
OBSERVATIONS = """\
       4000 Observations  Observation?patient=X&code=Y p50   10.69 ms   p95   17.97 ms
      20000 Observations  Observation?patient=X&code=Y p50   21.72 ms   p95   43.10 ms
"""
CARDS = """\
raw jwcrypto ES256 JWS sign           2849 /s   (reference)
raw cryptography ECDSA P-256         11743 /s
full issuance (minimise -> JWS)       1548 /s   = 54% of jwcrypto sign (goal >= 50 %)
QR PNG render, fresh                     9 /s   (goal >= 150/s/core or cache)
QR PNG from cache (hit)             312386 /s
verify shc:/ text (full checks)        836 /s
"""
VALIDATION = """\
all (sum)                                    1439.9   1659.1    2342.8   683.7     47%    41%
"""
REPOSITORY = """\
read by id: worker CPU raw 373 µs, through the Repository 354 µs per call (median of 1) -> -5.0 % \
of the bare store call; the whole request 1606 µs -> the Repository adds -1.2 % of a request
search: worker CPU raw 1445 µs, through the Repository 1478 µs per call (median of 1) -> +2.3 % \
of the bare store call; the whole request 3102 µs -> the Repository adds +1.1 % of a request
"""
DECIMALS = """\
  parse        floats   7.41 ms   decimals  11.73 ms   + 1.45 us/decimal
  store read   floats   5.73 ms   decimals  20.25 ms   + 4.89 us/decimal
"""
SEED = """\
synthetic campaign: 50 people, 400 resources (Appointment 60, Immunization 120, Patient 50) in \
8.0 s = 6.2 people/s, 50 resources/s
raw insert_many of the same 800 documents (current + history): 2.0 s = 400 documents/s
"""
CAMPAIGN = """\
  wall per person: median 900 ms, p95 1500 ms; 4.1 people/s
  CPU per person: server 120.5 ms, database 240.0 ms
reminders over 300 booked appointments: 3.0 s (100 appointments/s; 300 notices, 300 SMS, 0 \
failed); the same run again: 1.0 s, 0 sent twice
"""
SYNTHEA = """\
transactions over HTTP       150 resources/s (48 s)
  CPU per resource: server workers 2.50 ms, database 4.00 ms (FHIR_AUDIT=all)
raw pymongo insert_many of the same resources (1 thread) 600 resources/s: transactions reach 25%
"""
ANALYTICS = """\
2000 Immunizations, 1031 people: facts made in 1 s, loaded in 4 s; cells {'ps': 149}
  coverage, full country: 13 ms (1 cells)
  coverage, province 25: 11 ms (1 cells)
  coverage, province 25 by group: 29 ms (9 cells)
  write path: 26.3 ms of rollup per new dose (batches of 200)
20001 Immunizations, 9792 people: facts made in 3 s, loaded in 21 s; cells {'ps': 383}
  coverage, full country: 23 ms (1 cells)
  coverage by province (full country): 24 ms (34 cells)
  coverage, province 79: 18 ms (1 cells)
  coverage, province 79 by group: 83 ms (15 cells)
  write path: 23.8 ms of rollup per new dose (batches of 200)
growth 20000/2000 (10x data):
  coverage, full country: 1.80x
  coverage, province P: 1.65x
  coverage, province P by group: 2.86x
"""


def _by_name(module: str, text: str) -> dict[str, Figure]:
    return {figure.name: figure for figure in collect(module, text, "b")}


def test_crud_read_against_the_slower_reference_and_the_raw_driver() -> None:
    found = _by_name("bench_crud", CRUD)
    assert found["read by id (GET /Patient/id)"].ratio == pytest.approx(617 / 786)
    assert found["read by id vs raw driver"].ratio == pytest.approx(617 / 1300)
    assert found["create (POST /Patient)"].ratio == pytest.approx(88 / 272)
    assert found["read by id p50"].value == 9.80 and found["trivial request /healthz"].value == 786
    assert {f.bench for f in found.values()} == {"b"}


def test_auth_token_and_audit_overheads() -> None:
    found = _by_name("bench_auth", AUTH)
    assert found["read with token p50"].ratio == pytest.approx(15.27 / 15.85)
    assert found["read without auth p50 (audited)"].ratio == pytest.approx(15.85 / 13.90)
    assert found["login (argon2id)"].value == 12.5


def test_ingest_against_validation_and_the_raw_ceiling() -> None:
    found = _by_name("bench_ingest", INGEST)
    assert found["transaction ingest over HTTP"].ratio == pytest.approx(210 / 3917)
    assert found["transaction ingest vs raw driver"].ratio == pytest.approx(210 / 877)
    assert found["NDJSON import"].ratio == pytest.approx(73 / 877)
    assert found["storage layer alone"].value == 226
    assert found["ingest CPU per resource: server"].ratio == pytest.approx(1.97 / 3.28)


def test_search_growth_between_sizes() -> None:
    found = _by_name("bench_search", SEARCH)
    assert found["Immunization?patient=X p50 @ 20,000"].ratio == pytest.approx(10.16 / 9.24)
    assert found["Patient?identifier=sys|value p95 @ 20,000"].value == 16.21
    assert found["Patient?identifier=sys|value p95 @ 20,000"].ratio == pytest.approx(16.21 / 10.81)
    assert "growth from 4,000 to 20,000" in found["Immunization?patient=X p50 @ 20,000"].note
    observations = _by_name("bench_observation_search", OBSERVATIONS)
    assert observations["Observation?patient=X&code=Y p50 @ 20,000"].ratio == pytest.approx(
        21.72 / 10.69)


def test_one_size_has_no_growth() -> None:
    one = collect("bench_observation_search", OBSERVATIONS.splitlines()[0], "b")
    assert [(f.ratio, f.note) for f in one] == [(None, "at 4,000 Observations")] * 2


def test_cards_validation_repository_decimals() -> None:
    cards = _by_name("bench_health_cards", CARDS)
    assert cards["card issuance (3 doses)"].ratio == pytest.approx(1548 / 2849)
    assert cards["card verification (shc:/ text)"].value == 836
    assert cards["QR PNG render, fresh"].note == "from cache: 312,386/s"
    validation = _by_name("bench_validation", VALIDATION)
    assert validation["profile checks added"].ratio == pytest.approx(683.7 / 1439.9)
    assert validation["validation of a write (5 profiles, sum)"].ratio == pytest.approx(
        2342.8 / 1439.9)
    repository = _by_name("bench_repository", REPOSITORY)
    assert repository["Repository CPU added, read by id"].value == -19
    assert repository["Repository CPU added, search"].ratio == pytest.approx(33 / 3102)
    decimals = _by_name("bench_decimals", DECIMALS)
    assert decimals["decimals kept: store read of a bundle"].ratio == pytest.approx(20.25 / 5.73)


def test_seed_campaign_and_full_synthea() -> None:
    seed = _by_name("bench_seed", SEED)
    assert seed["seed (synthetic campaign)"].value == 50
    assert seed["seed (synthetic campaign)"].ratio == pytest.approx(2.0 / 8.0)
    campaign = _by_name("bench_campaign", CAMPAIGN)
    assert campaign["campaign loop (dose, view, card) median"].value == 900
    assert campaign["campaign loop CPU: server"].ratio == pytest.approx(120.5 / 240)
    assert campaign["reminders"].value == 100
    synthea = _by_name("bench_synthea_full", SYNTHEA)
    assert synthea["full Synthea transactions"].ratio == pytest.approx(150 / 600)


def test_analytics_indicators_at_the_larger_size_with_growth() -> None:
    found = collect("bench_analytics", ANALYTICS, "b")
    assert [(f.name, f.value, f.ratio, f.note) for f in found] == [
        ("indicator: coverage, full country", 23, 1.80, "growth with 10x data"),
        ("indicator: coverage, province P", 18, 1.65, "growth with 10x data"),
        ("analytics rollup per new dose", 23.8, None, "")]
    one_size = collect("bench_analytics", ANALYTICS.split("20001 ")[0], "b")
    assert [(f.value, f.ratio) for f in one_size] == [(13, None), (11, None), (26.3, None)]


def test_every_adapter_ignores_output_it_does_not_know() -> None:
    assert all(adapter("Traceback (most recent call last):\n  boom\n") == []
               for adapter in ADAPTERS.values())
    assert collect("bench_unknown", CRUD, "b") == []
