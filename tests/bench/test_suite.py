"""bench/suite.py: each bench runs as its own process with its arguments and a time limit; its
records are collected and its outcome classified (issue 16 point 7: `make bench` is bounded and
its smoke run fails on errors, not on slow figures or missed goals). Fake modules, no database."""

from __future__ import annotations

import time
from pathlib import Path

from bench.report import Figure
from bench.suite import Bench, run_all, run_bench, unregistered

EMITS = """
import sys
sys.path.insert(0, {root!r})
from bench.report import Figure, emit
print("people read this line", sys.argv[1:])
emit(Figure("answers", float(len(sys.argv)), "req/s", 0.5, "of the reference"))
"""


def _module(folder: Path, name: str, text: str) -> str:
    (folder / f"{name}.py").write_text(text, "utf-8")
    return name


def test_records_and_arguments_of_the_mode(tmp_path: Path) -> None:
    name = _module(tmp_path, "bench_fake", EMITS.format(root=str(Path.cwd())))
    bench = Bench("fake", name, ("--full", "1"), ("--quick",), "a fake")
    quick = run_bench(bench, True, 60, tmp_path)
    full = run_bench(bench, False, 60, tmp_path)
    assert (quick.status, quick.args, quick.detail) == ("ok", ("--quick",), "")
    assert quick.figures == [Figure("answers", 2.0, "req/s", 0.5, "of the reference", "fake")]
    assert full.figures[0].value == 3.0 and full.args == ("--full", "1")


def test_a_crash_fails_and_a_missed_goal_does_not(tmp_path: Path) -> None:
    crash = _module(tmp_path, "bench_crash", "raise RuntimeError('boom')\n")
    missed = _module(tmp_path, "bench_missed", "print('goal missed')\nraise SystemExit(1)\n")
    assert run_bench(Bench("c", crash, goal_exit=True), True, 60, tmp_path).status == "failed"
    assert run_bench(Bench("m", missed, goal_exit=True), True, 60, tmp_path).status == \
        "goal missed"
    assert run_bench(Bench("m", missed), True, 60, tmp_path).status == "failed"


def test_a_bench_past_its_limit_is_stopped(tmp_path: Path) -> None:
    slow = _module(tmp_path, "bench_slow", "import time\nprint('started', flush=True)\n"
                                           "time.sleep(120)\n")
    started = time.monotonic()
    run = run_bench(Bench("s", slow, limit_quick=1.5), True, 1.5, tmp_path)
    assert time.monotonic() - started < 30
    assert (run.status, run.detail) == ("timeout", "stopped after 2 s")
    assert run.is_error
    cut = run_bench(Bench("s", slow, limit_quick=60), True, 1.5, tmp_path)
    assert (cut.status, cut.is_error) == ("cut", False)  # the run's budget ended it: slow


def test_a_bench_without_figures_is_noted_and_a_missing_one_fails(tmp_path: Path) -> None:
    quiet = _module(tmp_path, "bench_quiet", "print('nothing measured')\n")
    assert run_bench(Bench("q", quiet), True, 60, tmp_path).detail == \
        "no figures read from its output"
    assert run_bench(Bench("v", "bench_absent"), True, 60, tmp_path).status == "failed"


def test_runs_skip_benches_of_other_runs_absent_ones_and_past_the_budget(tmp_path: Path
                                                                          ) -> None:
    for name in ("bench_big", "bench_huge", "bench_late"):
        _module(tmp_path, name, "print('never run')\n")
    benches = [Bench("big", "bench_big", in_quick=False),
               Bench("huge", "bench_huge", in_quick=False, in_full=False),
               Bench("gone", "bench_gone"), Bench("late", "bench_late")]
    runs = run_all(benches, True, 1, directory=tmp_path)
    assert [(r.name, r.status, r.detail) for r in runs] == [
        ("big", "skipped", "full run only"), ("huge", "skipped", "on demand: --only huge"),
        ("gone", "skipped", "module not present"),
        ("late", "skipped", "the run's time budget was spent")]
    chosen = run_all(benches[:2], False, 0, chosen=True, directory=tmp_path)
    assert [r.detail for r in chosen] == ["the run's time budget was spent"] * 2


def test_unregistered_modules_run_on_demand_only() -> None:
    found = {b.module: b for b in unregistered([])}
    assert not found["bench_crud"].runs_in(quick=True)
    assert not found["bench_crud"].runs_in(quick=False)
    assert found["bench_crud"].name == "crud" and found["bench_crud"].args(quick=False) == ()
