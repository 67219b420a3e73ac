"""Indicators (issue 15 point 1) on the embedded SecantusDB at 100k and 1M Immunizations: a
full-country coverage indicator (goal <= 2 s at 1M) and a province-filtered one (goal <= 1.5x
growth per 10x data), plus other shapes the dashboard asks, and the write-time cost per dose.

The data: synthetic people and their campaigns (fhir_server/synthetic: people.person,
doses.campaign, as `fhir-server seed`), turned into analytics facts by the SAME pure functions
the after-write effects use (analytics/facts.py, rollup.py) and inserted in bulk with the raw
driver (rebuild.load) -- writing 1M Immunizations through the HTTP/Repository path takes hours
here. The write path is then measured on that database: Rollup.change_many for new doses in
batches of 200, as Repository.create_many's effect does.
Run: .venv/bin/python bench/bench_analytics.py [--sizes 100000,1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.servers import settle  # noqa: E402
from fhir_server.embedded import EmbeddedStore  # noqa: E402

TODAY = date(2022, 6, 30)


def campaign_people(doses_wanted: int, seed: int = 2021) -> tuple[list[dict[str, Any]], int]:
    """Person fact documents of synthetic people until `doses_wanted` Immunizations."""
    from fhir_server.analytics import facts
    from fhir_server.analytics.updates import set_area, set_entry
    from fhir_server.synthetic.doses import Site, campaign
    from fhir_server.synthetic.people import geography, person

    rng = random.Random(seed)
    geo = geography()
    sites: dict[str, list[Site]] = {}
    for n in range(max(5, min(doses_wanted // 625, 2000))):  # as seed: people / 250
        province = rng.choices(geo.provinces, geo.weights)[0][0]
        sites.setdefault(province, []).append(Site(f"site-{n}", ("nurse",), province))
    everyone = [s for found in sites.values() for s in found]
    docs: list[dict[str, Any]] = []
    doses = number = 0
    while doses < doses_wanted:
        who = person(rng, number, TODAY)
        plan = campaign(who, rng.choice(sites.get(who.province, everyone)),
                        TODAY - timedelta(days=365), TODAY, rng)
        pid = f"p{number}"
        doc: dict[str, Any] = {"_id": pid, "v": 1}
        set_area(facts.patient_fact(who.patient))(doc)
        set_entry("regs", f"a{number}", facts.registration_fact(plan.registration))(doc)
        for index, dose in enumerate(plan.doses):
            set_entry("doses", f"i{number}-{index}", facts.dose_fact(dose))(doc)
        for index, event in plan.reactions:
            event["suspectEntity"][0]["instance"]["reference"] = f"Immunization/i{number}-{index}"
            set_entry("events", f"e{number}-{index}", facts.event_fact(event))(doc)
        docs.append(doc)
        doses += len(plan.doses)
        number += 1
    return docs, doses


def timed(db: Any, query: Any, repeat: int) -> tuple[float, list[Any]]:
    """The median seconds of `repeat` runs of compute, and its cells."""
    from fhir_server.analytics.indicators import compute

    runs, cells = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        cells = compute(db, query)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), cells


def write_cost(db: Any, docs: list[dict[str, Any]]) -> float:
    """Seconds per new dose of the rollup effect (batches of 200, people already stored)."""
    from fhir_server.analytics.updates import Rollup, set_entry

    rollup = Rollup(db)
    edits = []
    for n, doc in enumerate(docs[:1000]):
        dose = {**next(iter((doc.get("doses") or {}).values()), {"d": "2022-06-30", "v": "moderna",
                                                      "l": "MO1", "s": "", "n": 1, "sd": 2}),
                "ok": True, "d": "2022-06-30"}
        edits.append((doc["_id"], set_entry("doses", f"extra-{n}", dose)))
    started = time.perf_counter()
    for first in range(0, len(edits), 200):
        rollup.change_many(edits[first:first + 200])
    return (time.perf_counter() - started) / len(edits)


def main() -> int:
    """Load each size, time the queries, print the figures and the growth ratios."""
    from pymongo import MongoClient

    from fhir_server.analytics.query import IndicatorQuery
    from fhir_server.analytics.rebuild import RebuildReport, load
    from fhir_server.analytics.updates import Rollup
    from fhir_server.storage.analytics_cells import AnalyticsCells
    from fhir_server.storage.analytics_facts import ensure_analytics_indexes

    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print("facts made by the effects' pure functions from synthetic people and inserted in "
          "bulk with the raw driver (not through HTTP)", flush=True)
    figures: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as name, \
            EmbeddedStore(Path(name) / "data", log_path=Path(name) / "db.log") as store, \
            MongoClient(store.uri) as client:
        for size in sizes:
            db = client[f"analytics_{size}"]
            ensure_analytics_indexes(db)
            started = time.perf_counter()
            docs, doses = campaign_people(size)
            made = time.perf_counter() - started
            report = RebuildReport()
            started = time.perf_counter()
            load(Rollup(db), docs, report)
            print(f"{doses} Immunizations, {len(docs)} people: facts made in {made:.0f} s, "
                  f"loaded in {time.perf_counter() - started:.0f} s; cells {report.cells}",
                  flush=True)
            if store.process is not None:  # the bulk load's checkpoint would be timed too
                settle(store.process.pid, limit=180)
            province = max(report_provinces(docs), key=lambda p: p[1])[0]
            queries = {
                "coverage, full country": IndicatorQuery("coverage"),
                "coverage by province (full country)": IndicatorQuery("coverage",
                                                                      by=("province",)),
                f"coverage, province {province}": IndicatorQuery("coverage", area=province),
                f"coverage, province {province} by group": IndicatorQuery(
                    "coverage", area=province, by=("group",)),
                f"coverage, province {province} by commune": IndicatorQuery(
                    "coverage", area=province, by=("area",)),
                "doses per day, full country, 2022": IndicatorQuery(
                    "doses", start=date(2022, 1, 1), end=TODAY, by=("day",)),
                "adverse events by vaccine and lot": IndicatorQuery(
                    "adverse-events", by=("vaccine", "lot")),
            }
            figures[size] = {}
            timed(db, IndicatorQuery("doses"), 1)  # loads the code lists once
            for label, query in queries.items():
                seconds, cells = timed(db, query, args.repeat)
                figures[size][label.replace(province, "P")] = seconds
                print(f"  {label}: {seconds * 1000:.0f} ms ({len(cells)} cells)", flush=True)
            started = time.perf_counter()
            AnalyticsCells(db).sum("all", None, {}, [], ["people_1plus", "people_primary",
                                                         "people_booster"])
            figures[size]["baseline"] = baseline = time.perf_counter() - started
            print(f"  baseline, the same full-country coverage as one $group over the finest "
                  f"cells (about one row per dose): {baseline * 1000:.0f} ms", flush=True)
            print(f"  write path: {write_cost(db, docs) * 1000:.1f} ms of rollup per new dose "
                  "(batches of 200)", flush=True)
            if size != sizes[-1]:  # dropping 1M cells takes minutes; the last goes with the store
                client.drop_database(db.name)
            del docs
    if len(sizes) == 2:
        small, large = sizes
        print(f"growth {large}/{small} ({large / small:.0f}x data):")
        for label, seconds in figures[large].items():
            print(f"  {label}: {seconds / figures[small][label]:.2f}x")
    return 0


def report_provinces(docs: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """(province, people) of the generated people."""
    counts: dict[str, int] = {}
    for doc in docs:
        counts[doc["area"]["p"]] = counts.get(doc["area"]["p"], 0) + 1
    return list(counts.items())


if __name__ == "__main__":
    sys.exit(main())
