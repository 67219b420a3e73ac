"""Run bench modules one after another, each as its own process with its own arguments and a
time limit, echoing its output as it comes and collecting its figures (bench/report.py records
and the bench/collect.py adapters)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bench.collect import collect
from bench.report import FIGURE_TAG, TABLE_TAG, BenchRun, parse_records

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent


@dataclass(frozen=True)
class Bench:
    """A registered bench module: its arguments in the full and the quick run, what it measures,
    its time limits and the runs it belongs to (`--only NAME` runs it whatever these say).
    `goal_exit`: the module exits non-zero when a goal is missed (not an error unless it also
    printed a traceback)."""

    name: str
    module: str
    full: tuple[str, ...] = ()
    quick: tuple[str, ...] = ()
    what: str = ""
    limit_full: float = 300.0
    limit_quick: float = 90.0
    goal_exit: bool = False
    in_full: bool = True
    in_quick: bool = True

    def args(self, quick: bool) -> tuple[str, ...]:
        """The command-line arguments of this run."""
        return self.quick if quick else self.full

    def limit(self, quick: bool) -> float:
        """Seconds this bench may take before it is stopped."""
        return self.limit_quick if quick else self.limit_full

    def runs_in(self, quick: bool) -> bool:
        """True when the bench belongs to the quick (or the full) run."""
        return self.in_quick if quick else self.in_full


def unregistered(known: list[Bench]) -> list[Bench]:
    """bench_*.py modules the registry does not name: on demand (`--only`), with their
    defaults (their cost is unknown, so neither run takes them)."""
    names = {bench.module for bench in known}
    return [Bench(path.stem.removeprefix("bench_"), path.stem, in_quick=False, in_full=False,
                  what="(not registered in bench/__main__.py: its defaults)")
            for path in sorted(BENCH_DIR.glob("bench_*.py")) if path.stem not in names]


def _pump(stream: IO[str], sink: list[str]) -> None:
    """Collect every line; echo those for people (records go to the table)."""
    for line in stream:
        sink.append(line)
        if not line.startswith((FIGURE_TAG, TABLE_TAG)):
            sys.stdout.write(line)
            sys.stdout.flush()


def _default_sigint() -> None:
    """In the child before it runs: SIGINT back to its default, so Python turns it into
    KeyboardInterrupt even when this process ignores it (a parent that ignores SIGINT, e.g. a
    test runner's worker, would pass that on and _stop's interrupt would go unheard)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _stop(process: subprocess.Popen[str]) -> None:
    """Interrupt the bench (its finally blocks stop its servers), then kill its group."""
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def run_bench(bench: Bench, quick: bool, limit: float, directory: Path = BENCH_DIR
              ) -> BenchRun:
    """Run one bench module (directory/<module>.py) within `limit` seconds; its outcome and
    figures."""
    args = bench.args(quick)
    run = BenchRun(bench.name, bench.module, args, bench.what)
    print(f"\n=== {bench.name}: {bench.module}.py {' '.join(args)}".rstrip(), flush=True)
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, str(directory / f"{bench.module}.py"), *args], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment,
        start_new_session=True, preexec_fn=_default_sigint)
    lines: list[str] = []
    assert process.stdout is not None
    reader = threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True)
    reader.start()
    try:
        code = process.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        _stop(process)
        code = None
    reader.join(timeout=10)
    run.seconds = time.monotonic() - started
    text = "".join(lines)
    figures, tables = parse_records(text, bench.name)
    run.figures = figures + collect(bench.module, text, bench.name)
    run.tables = tables
    if code is None and limit < bench.limit(quick):  # the run's budget, not the bench's own
        run.status, run.detail = "cut", f"stopped after {limit:.0f} s: the run's time budget"
    elif code is None:
        run.status, run.detail = "timeout", f"stopped after {limit:.0f} s"
    elif code != 0:
        crashed = "Traceback (most recent call last)" in text
        run.status = "goal missed" if bench.goal_exit and not crashed else "failed"
        run.detail = f"exit {code}"
    elif not run.figures and not tables:
        run.detail = "no figures read from its output"
    return run


def run_all(benches: list[Bench], quick: bool, budget: float, chosen: bool = False,
            directory: Path = BENCH_DIR) -> list[BenchRun]:
    """Run the benches in order within `budget` seconds in all; those left are skipped, and so
    are those outside this kind of run unless they were `chosen` by name, and registered
    modules that are not (yet) there."""
    deadline = time.monotonic() + budget
    runs: list[BenchRun] = []
    for bench in benches:
        left = deadline - time.monotonic()
        reason = (("full run only" if bench.in_full else f"on demand: --only {bench.name}")
                  if not (chosen or bench.runs_in(quick))
                  else "module not present" if not (directory / f"{bench.module}.py").exists()
                  else "the run's time budget was spent" if left < 5 else "")
        if reason:
            runs.append(BenchRun(bench.name, bench.module, bench.args(quick), bench.what,
                                 "skipped", 0.0, reason))
            continue
        runs.append(run_bench(bench, quick, min(bench.limit(quick), left), directory))
    return runs
