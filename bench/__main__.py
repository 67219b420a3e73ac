"""`make bench` (`python -m bench [--quick] [--only NAME ...]`): every benchmark in turn, each
against the embedded SecantusDB (and the app or `fhir-server serve`) it starts, then one table
of figures with their same-run ratios, written to bench/results/latest.md (a full run of every
bench) or var/bench/<mode>.md (quick or partial runs).

Bounded: the full run stops starting benches after FULL_BUDGET seconds, the quick one (a smoke
test, run by CI) after QUICK_BUDGET; each bench has its own time limit too. The exit status is 1
when a bench failed or timed out, never for slow figures or a missed goal.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench.report import BenchRun, load_average, machine_facts, report_markdown, text_table
from bench.suite import ROOT, Bench, run_all, unregistered

FULL_BUDGET = 14 * 60.0
QUICK_BUDGET = 170.0
# One line per bench: Bench(name, module, full-run arguments, quick-run arguments, what it
# measures[, limit_full=s, limit_quick=s, in_quick=False, in_full=False]), in running order.
# Sizes are picked for the 15-minute bound on this 2-core machine (see the module docstrings for
# the larger defaults each module runs with on its own).
BENCHES = [
    Bench("validation", "bench_validation", ("--rounds", "10", "--iterations", "30"),
          ("--rounds", "2", "--iterations", "5"),
          "fhir.resources parse vs the write's validation and profile checks"),
    Bench("fast-validation", "bench_fast_validation", ("--rounds", "5"),
          ("--rounds", "3", "--bundles", "10"),
          "validate_resource vs fhir.resources model_validate, same Synthea resources "
          "(goal <= 0.40)", goal_exit=True),
    Bench("cards", "bench_health_cards", ("--seconds", "1.5"), ("--seconds", "0.2"),
          "health-card issuance and verification vs raw ES256 signing; QR renders"),
    Bench("decimals", "bench_decimals", ("--rounds", "7", "--bundles", "1"),
          ("--rounds", "2", "--bundles", "1"), "cost of keeping decimals' text"),
    Bench("serving", "bench_serving", ("--rounds", "2", "--requests", "400"),
          ("--rounds", "1", "--requests", "100", "--patients", "10", "--only",
           "ours: granian 2"),
          "server CPU per request: gunicorn gthread/sync/FhirWorker, granian, bare Flask; "
          "/healthz and read by id", limit_full=420, limit_quick=60),
    Bench("crud", "bench_crud", ("--requests", "1000", "--rounds", "1"),  # more rounds: 409s
          ("--requests", "60", "--rounds", "1", "--clients", "4"),
          "create and read over HTTP vs /healthz and raw pymongo on the same store"),
    Bench("load", "bench_load", ("--seconds", "10", "--patients", "300"),
          ("--levels", "1", "4", "--seconds", "2", "--patients", "50", "--cpu-requests", "50"),
          "campaign mix at rising concurrency until saturation: p50/p95/p99, errors"),
    Bench("campaign", "bench_campaign",
          ("--people", "8", "--sites", "4", "--appointments", "300"),
          ("--people", "2", "--sites", "2", "--appointments", "20"),
          "the campaign loop per person at concurrent sites; reminders"),
    Bench("ingest", "bench_ingest", ("--rounds", "1", "--repeat", "1"),
          (), "Synthea transactions over HTTP and NDJSON import vs validation and raw "
          "insert_many", in_quick=False),
    Bench("index-entries", "bench_index_entries", ("--bundles", "20"), ("--bundles", "3"),
          "index entries, index bytes and database CPU per stored Synthea resource and per "
          "server-written AuditEvent (bulk write path)"),
    Bench("search", "bench_search", ("--sizes", "4000", "40000", "--queries", "100"),
          ("--sizes", "1000", "2000", "--queries", "20", "--rounds", "1"),
          "Immunization?patient= and Patient?identifier= at two sizes (growth)"),
    Bench("repository", "bench_repository", ("--requests", "100", "--rounds", "3"),
          ("--requests", "30", "--rounds", "1"),
          "worker CPU the one door adds to a read and a search", goal_exit=True),
    Bench("observation-search", "bench_observation_search",
          ("--sizes", "2000", "20000", "--queries", "100"),
          ("--sizes", "1000", "2000", "--queries", "20", "--rounds", "1"),
          "Observation?patient&code at two sizes (growth)"),
    Bench("auth", "bench_auth", ("--requests", "200", "--rounds", "3"), ("--rounds", "1"),
          "what the token and the AuditEvent add to a read", in_quick=False),
    # the sizes (100k and 1M Immunizations, ~40 min): bench/bench_analytics.py alone
    Bench("analytics", "bench_analytics", ("--sizes", "1000,10000", "--repeat", "1"),
          ("--sizes", "500,2000", "--repeat", "1"),
          "indicators: coverage full-country and province-filtered at two sizes "
          "(growth), facts bulk-loaded; rollup cost per new dose",
          limit_full=240, in_quick=False),
    Bench("verify-page", "bench_verify_page", ("--rounds", "20"), ("--rounds", "3"),
          "the /verify page in headless Chromium: click to verdict for a pasted card "
          "(valid, tampered) vs the verify API alone", in_quick=False),
    Bench("seed", "bench_seed", ("--people", "100"), ("--people", "10"),
          "fhir-server seed --people N vs raw insert_many of the same documents"),
    # last: its quick run is the one the budget cuts on a loaded machine (the venv is made by
    # `make bench` before the run: bench/peer_setup.py)
    Bench("peers", "bench_peers", ("--rounds", "5", "--requests", "400"),
          ("--rounds", "1", "--bundles", "6", "--requests", "30", "--workers", "1",
           "--no-install"),
          "ours vs sekmet (FastAPI + SQLite) on the same Synthea ingest, read and searches: "
          "throughput ratios, our API/database CPU vs sekmet's whole server per operation",
          limit_full=360, goal_exit=True),
    Bench("synthea-full", "bench_synthea_full", (), (),
          "the 58 full Synthea bundles (7,214 resources) over HTTP vs raw insert_many",
          limit_full=600, in_quick=False, in_full=False),
]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test (CI)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these benches")
    parser.add_argument("--out", type=Path, help="where to write the markdown report")
    parser.add_argument("--list", action="store_true", help="list the benches and exit")
    parser.add_argument("--note", default="", help="a remark for the report (e.g. the load)")
    return parser


def selected(names: list[str] | None) -> list[Bench]:
    """The benches of this run: the registered ones, then the unregistered modules (skipped
    unless named)."""
    if not names:
        return BENCHES + unregistered(BENCHES)
    unknown = set(names) - {b.name for b in BENCHES + unregistered(BENCHES)}
    if unknown:
        raise SystemExit(f"unknown bench: {', '.join(sorted(unknown))} (see --list)")
    return [b for b in BENCHES + unregistered(BENCHES) if b.name in names]


def main(argv: list[str] | None = None) -> int:
    """Run the selected benches, print the table, write the report."""
    args = _parser().parse_args(argv)
    benches = selected(args.only)
    if args.list:
        for bench in BENCHES + unregistered(BENCHES):
            print(f"{bench.name:20} {bench.module:26} {bench.what}")
        return 0
    mode = "quick" if args.quick else "full"
    facts = machine_facts()
    started = time.monotonic()
    runs: list[BenchRun] = run_all(benches, args.quick, QUICK_BUDGET if args.quick
                                   else FULL_BUDGET, chosen=bool(args.only))
    seconds = time.monotonic() - started
    facts["load average at end"] = load_average()
    facts["run time"] = f"{seconds / 60:.1f} min"
    complete = mode == "full" and not args.only
    out = args.out or (ROOT / "bench/results/latest.md" if complete
                       else ROOT / f"var/bench/{mode}{'-partial' if args.only else ''}.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report_markdown(mode, facts, runs, seconds, args.note), "utf-8")
    figures = [figure for run in runs for figure in run.figures]
    print(f"\n=== figures ({mode} run, {seconds / 60:.1f} min; report: {out})")
    print(text_table(figures))
    for run in runs:
        if run.status != "ok" or run.detail:
            print(f"{run.name}: {run.status}{f' ({run.detail})' if run.detail else ''}")
    failed = [run.name for run in runs if run.is_error]
    if failed:
        print(f"failed: {', '.join(failed)}")
    skipped = sum(run.status in ("skipped", "cut") for run in runs)
    print(f"bench: {len(runs) - len(failed) - skipped} passed, {len(failed)} failed, "
          f"{skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
