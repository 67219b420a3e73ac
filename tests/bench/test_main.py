"""`python -m bench` (issue 16 point 7): the registry names every bench module, `--quick --only`
runs one cheap bench end to end (a subprocess, its figures in the table and the report), and the
run ends on a plain pass/fail line; heavier benches are left to CI's `make bench ARGS=--quick`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import BENCHES, selected
from bench.suite import BENCH_DIR, ROOT


def test_every_bench_module_is_registered_once() -> None:
    modules = [bench.module for bench in BENCHES]
    assert len(modules) == len(set(modules)) and len({b.name for b in BENCHES}) == len(BENCHES)
    assert set(modules) <= {path.stem for path in BENCH_DIR.glob("bench_*.py")}
    assert {"bench_ingest", "bench_crud", "bench_search", "bench_health_cards", "bench_campaign",
            "bench_load"} <= set(modules)
    assert all(bench.limit(quick=True) <= 120 for bench in BENCHES)


def test_only_selects_by_name_and_refuses_unknown_names() -> None:
    assert [b.module for b in selected(["crud", "load"])] == ["bench_crud", "bench_load"]
    with pytest.raises(SystemExit, match="unknown bench: nosuch"):
        selected(["nosuch"])


def test_quick_run_of_one_cheap_bench_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "quick.md"
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--only", "validation",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "bench: 1 passed, 0 failed, 0 skipped"
    assert any(line.startswith("validation  profile checks added") for line in lines)
    report = out.read_text("utf-8")
    assert report.startswith("# Benchmark report (quick)")
    assert "| validation | validation of a write (5 profiles, sum) |" in report
    assert "| validation | ok |" in report and "--rounds 2 --iterations 5" in report
