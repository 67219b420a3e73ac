"""Adapters that read the figures the existing bench modules print (their own lines, for people)
into Figures with their same-run ratios: one function per module, keyed by its name.

A module that prints `@figure` records (bench/report.py) needs no adapter. An adapter skips a
figure whose line it does not find (the table then lacks it; tests/bench/test_collect.py keeps
the adapters in step with the modules' lines).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bench.report import Figure

NUMBER = r"([-+]?[\d,]*\.?\d+)"


def _numbers(pattern: str, text: str) -> list[tuple[float, ...]]:
    """Every match of `pattern` (NUMBER groups) in text, as floats."""
    return [tuple(float(group.replace(",", "")) for group in match)
            if isinstance(match, tuple) else (float(match.replace(",", "")),)
            for match in re.findall(pattern, text)]


def _first(pattern: str, text: str) -> tuple[float, ...] | None:
    found = _numbers(pattern, text)
    return found[0] if found else None


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _rate_line(label: str, text: str) -> tuple[float, ...] | None:
    """(req/s, p50 ms, p95 ms, errors) of a bench_crud line."""
    return _first(re.escape(label) + rf"\s+{NUMBER} req/s\s+p50\s+{NUMBER} ms\s+p95\s+{NUMBER}"
                  rf" ms\s+errors {NUMBER}", text)


def crud(text: str) -> list[Figure]:
    """bench_crud: create and read over HTTP next to /healthz and raw pymongo."""
    create = _rate_line("FHIR create (POST /Patient)", text)
    read = _rate_line("FHIR read (GET /Patient/id)", text)
    trivial = _rate_line("(a) trivial JSON route /healthz", text)
    insert = _rate_line("(b) raw pymongo insert_one", text)
    find = _rate_line("(b) raw pymongo find_one", text)
    out: list[Figure] = []
    if read and trivial and find:
        out += [Figure("read by id (GET /Patient/id)", read[0], "req/s",
                       _share(read[0], min(trivial[0], find[0])),
                       "of min(/healthz, raw find_one) (goal >= 0.60)"),
                Figure("read by id vs raw driver", read[0], "req/s", _share(read[0], find[0]),
                       f"of raw pymongo find_one ({find[0]:.0f}/s)"),
                Figure("read by id p50", read[1], "ms", _share(read[1], trivial[1]),
                       "of /healthz p50"),
                Figure("trivial request /healthz", trivial[0], "req/s")]
    if create and insert:
        out.append(Figure("create (POST /Patient)", create[0], "req/s",
                          _share(create[0], insert[0]),
                          f"of raw pymongo insert_one ({insert[0]:.0f}/s)"))
    return out


def auth(text: str) -> list[Figure]:
    """bench_auth: what the token and the auditing add to a read."""
    line = rf"p50\s+{NUMBER} ms\s+{NUMBER} req/s"
    open_ = _first(r"read without auth\s+: " + line, text)
    token = _first(r"read with token\s+: " + line, text)
    bare = _first(r"read without auth, no audit : " + line, text)
    logins = _first(rf"login throughput\s+: \s*{NUMBER} logins/s", text)
    out: list[Figure] = []
    if open_ and token:
        out.append(Figure("read with token p50", token[0], "ms", _share(token[0], open_[0]),
                          "of the same read without auth (goal <= 1.15)"))
    if open_ and bare:
        out.append(Figure("read without auth p50 (audited)", open_[0], "ms",
                          _share(open_[0], bare[0]), "of the read with FHIR_AUDIT=off"))
    if logins:
        out.append(Figure("login (argon2id)", logins[0], "logins/s", None,
                          "" if logins[0] else "0: the bench's logins failed"))
    return out


def ingest(text: str) -> list[Figure]:
    """bench_ingest: transaction bundles over HTTP, NDJSON import, storage and raw ceilings."""
    validation = _first(rf"validation only \([^)]*\)\s+{NUMBER} resources/s", text)
    http = _first(rf"transactions over HTTP \(POST \[base\]\)\s+{NUMBER} resources/s", text)
    cpu = _first(rf"CPU per resource: server workers {NUMBER} ms, database {NUMBER} ms", text)
    imports = _first(rf"NDJSON import \([^)]*\)\s+{NUMBER} resources/s", text)
    layer = _first(rf"storage layer alone \(.*?\) {NUMBER} resources/s", text)
    raw = _first(rf"raw pymongo insert_many .*? {NUMBER} resources/s", text)
    out: list[Figure] = []
    if http and validation:
        out.append(Figure("transaction ingest over HTTP", http[0], "res/s",
                          _share(http[0], validation[0]),
                          "of fhir.resources validation alone (goal >= 0.30)"))
    if http and raw:
        out.append(Figure("transaction ingest vs raw driver", http[0], "res/s",
                          _share(http[0], raw[0]), f"of raw insert_many ({raw[0]:.0f}/s)"))
    if imports and raw:
        out.append(Figure("NDJSON import", imports[0], "res/s", _share(imports[0], raw[0]),
                          "of raw insert_many"))
    if layer and raw:
        out.append(Figure("storage layer alone", layer[0], "res/s", _share(layer[0], raw[0]),
                          "of raw insert_many"))
    if cpu:
        out.append(Figure("ingest CPU per resource: server", cpu[0], "ms",
                          _share(cpu[0], cpu[1]), f"of the database's {cpu[1]:.2f} ms"))
    return out


def synthea_full(text: str) -> list[Figure]:
    """bench_synthea_full: the 58 full Synthea bundles over HTTP against raw insert_many."""
    http = _first(rf"transactions over HTTP\s+{NUMBER} resources/s", text)
    raw = _first(rf"raw pymongo insert_many of the same resources \(1 thread\) {NUMBER}", text)
    cpu = _first(rf"CPU per resource: server workers {NUMBER} ms, database {NUMBER} ms", text)
    out: list[Figure] = []
    if http:
        out.append(Figure("full Synthea transactions", http[0], "res/s",
                          _share(http[0], raw[0]) if raw else None,
                          "of raw insert_many of the same resources"))
    if cpu:
        out.append(Figure("full Synthea CPU per resource: server", cpu[0], "ms",
                          _share(cpu[0], cpu[1]), f"of the database's {cpu[1]:.2f} ms"))
    return out


def _growth(text: str, unit_word: str, labels: list[str]) -> list[Figure]:
    """p50/p95 at the largest size with the growth ratio from the smallest."""
    out: list[Figure] = []
    for label in labels:
        sizes = _numbers(rf"\s+{NUMBER} {unit_word}\s+{re.escape(label)}\s+p50\s+{NUMBER} ms"
                         rf"\s+p95\s+{NUMBER} ms", text)
        if not sizes:
            continue
        (small, p50a, p95a), (large, p50b, p95b) = sizes[0], sizes[-1]
        growth = len(sizes) > 1
        note = (f"growth from {small:,.0f} to {large:,.0f} {unit_word} (goal <= 1.3)" if growth
                else f"at {large:,.0f} {unit_word}")
        out += [Figure(f"{label} p50 @ {large:,.0f}", p50b, "ms",
                       _share(p50b, p50a) if growth else None, note),
                Figure(f"{label} p95 @ {large:,.0f}", p95b, "ms",
                       _share(p95b, p95a) if growth else None, note)]
    return out


def search(text: str) -> list[Figure]:
    """bench_search: patient-scoped and identifier searches at two sizes."""
    return _growth(text, "resources", ["Immunization?patient=X", "Patient?identifier=sys|value"])


def observation_search(text: str) -> list[Figure]:
    """bench_observation_search: Observation?patient&code at two sizes."""
    return _growth(text, "Observations", ["Observation?patient=X&code=Y"])


def health_cards(text: str) -> list[Figure]:
    """bench_health_cards: issuance against raw signing, QR renders, verification."""
    def rate(label: str) -> float | None:
        found = _first(re.escape(label) + rf"\s+{NUMBER} /s", text)
        return found[0] if found else None

    jwcrypto = rate("raw jwcrypto ES256 JWS sign")
    issuance = rate("full issuance (minimise -> JWS)")
    png, cached = rate("QR PNG render, fresh"), rate("QR PNG from cache (hit)")
    verify = rate("verify shc:/ text (full checks)")
    out: list[Figure] = []
    if issuance and jwcrypto:
        out.append(Figure("card issuance (3 doses)", issuance, "cards/s",
                          _share(issuance, jwcrypto), "of raw jwcrypto ES256 sign (goal >= 0.50)"))
    if verify and jwcrypto:
        out.append(Figure("card verification (shc:/ text)", verify, "cards/s",
                          _share(verify, jwcrypto), "of raw jwcrypto ES256 sign"))
    if png:
        out.append(Figure("QR PNG render, fresh", png, "images/s", None,
                          f"from cache: {cached:,.0f}/s" if cached else ""))
    return out


def validation(text: str) -> list[Figure]:
    """bench_validation: what structure and profile checks add to fhir.resources parsing."""
    found = _first(rf"all \(sum\)\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}", text)
    if not found:
        return []
    parse, base, full, added = found
    return [Figure("validation of a write (5 profiles, sum)", full, "us",
                   _share(full, parse), "of fhir.resources model_validate alone"),
            Figure("profile checks added", added, "us", _share(added, parse),
                   "of fhir.resources model_validate (goal <= 0.50)")]


def repository(text: str) -> list[Figure]:
    """bench_repository: worker CPU the one door adds to a read and a search."""
    out = []
    for name in ("read by id", "search"):
        found = _first(rf"{name}: worker CPU raw {NUMBER} µs, through the Repository {NUMBER} µs"
                       rf".*?the whole request {NUMBER} µs", text)
        if found:
            raw, door, request = found
            out.append(Figure(f"Repository CPU added, {name}", door - raw, "us",
                              _share(door - raw, request),
                              f"of the whole request's {request:.0f} us (goal <= 0.10)"))
    return out


def decimals(text: str) -> list[Figure]:
    """bench_decimals: keeping decimals' text, on the largest Synthea bundle."""
    out = []
    for step in ("parse", "store read"):
        found = _first(rf"{step}\s+floats\s+{NUMBER} ms\s+decimals\s+{NUMBER} ms", text)
        if found:
            out.append(Figure(f"decimals kept: {step} of a bundle", found[1], "ms",
                              _share(found[1], found[0]), "of the same with floats"))
    return out


def seed(text: str) -> list[Figure]:
    """bench_seed: the synthetic campaign through the write path against raw inserts."""
    found = _first(rf"in {NUMBER} s = {NUMBER} people/s, {NUMBER} resources/s", text)
    raw = _first(rf"documents \(current \+ history\): {NUMBER} s", text)
    if not found:
        return []
    return [Figure("seed (synthetic campaign)", found[2], "res/s",
                   _share(raw[0], found[0]) if raw else None,
                   "raw insert_many time of the same documents / seed time")]


def campaign(text: str) -> list[Figure]:
    """bench_campaign: the per-person loop at concurrent sites, and reminders."""
    wall = _first(rf"wall per person: median {NUMBER} ms, p95 {NUMBER} ms; {NUMBER} people/s",
                  text)
    cpu = _first(rf"CPU per person: server {NUMBER} ms, database {NUMBER} ms", text)
    reminders = _first(rf"reminders over {NUMBER} booked appointments: {NUMBER} s \({NUMBER} "
                       "appointments/s", text)
    out: list[Figure] = []
    if wall:
        out.append(Figure("campaign loop (dose, view, card) median", wall[0], "ms/person",
                          None, f"p95 {wall[1]:.0f} ms, {wall[2]:.1f} people/s"))
    if cpu:
        out.append(Figure("campaign loop CPU: server", cpu[0], "ms/person",
                          _share(cpu[0], cpu[1]), f"of the database's {cpu[1]:.0f} ms"))
    if reminders:
        out.append(Figure("reminders", reminders[2], "appointments/s", None,
                          f"{reminders[0]:.0f} appointments"))
    return out


def analytics(text: str) -> list[Figure]:
    """bench_analytics: the coverage indicators at the larger size, with their growth."""
    head, _, tail = text.partition("\ngrowth ")
    last = re.split(r"^\d+ Immunizations, ", head, flags=re.MULTILINE)[-1]
    factor = _first(rf"^\S+ \({NUMBER}x data\)", tail)
    growth = {label: float(x) for label, x in re.findall(r"^  (.+?): ([\d.]+)x$", tail,
                                                          re.MULTILINE)}
    out = []
    for label, ms in re.findall(r"^  (coverage, (?:full country|province \w+)): ([\d.]+) ms",
                                last, re.MULTILINE):
        key = re.sub(r"province \w+", "province P", label)
        out.append(Figure(f"indicator: {key}", float(ms), "ms", growth.get(key),
                          f"growth with {factor[0]:.0f}x data" if factor and key in growth
                          else ""))
    write = _numbers(rf"write path: {NUMBER} ms of rollup per new dose", head)
    if write:
        out.append(Figure("analytics rollup per new dose", write[-1][0], "ms"))
    return out


ADAPTERS: dict[str, Callable[[str], list[Figure]]] = {
    "bench_crud": crud, "bench_auth": auth, "bench_ingest": ingest,
    "bench_synthea_full": synthea_full, "bench_search": search,
    "bench_observation_search": observation_search, "bench_health_cards": health_cards,
    "bench_validation": validation, "bench_repository": repository, "bench_decimals": decimals,
    "bench_seed": seed, "bench_campaign": campaign, "bench_analytics": analytics,
}


def collect(module: str, text: str, bench: str) -> list[Figure]:
    """The figures an adapter reads from a module's output, named after `bench`."""
    adapter = ADAPTERS.get(module)
    if adapter is None:
        return []
    return [Figure(f.name, f.value, f.unit, f.ratio, f.note, bench) for f in adapter(text)]
