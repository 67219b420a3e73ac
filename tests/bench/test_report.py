"""bench/report.py: the result protocol (records in a module's output) and the report's tables
(issue 16 point 7: `make bench` prints a table of figures with same-run ratios and writes
bench/results/latest.md with the machine facts and each bench's parameters)."""

from __future__ import annotations

import os

import pytest

from bench.report import (
    BenchRun,
    Figure,
    Table,
    emit,
    emit_table,
    format_ratio,
    format_value,
    machine_facts,
    markdown_table,
    parse_records,
    report_markdown,
    text_table,
)

READ = Figure("read by id", 617.4, "req/s", 0.785, "of min(/healthz, raw find_one)", "crud")
GROWTH = Figure("Patient?identifier=sys|value p50 @ 20,000", 8.39, "ms", 1.47, "growth", "search")
LEVELS = Table("Load test", ("clients", "req/s"), (("1", "39"), ("4", "49")), "load")


def test_emitted_records_read_back_among_other_lines(capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    print("a line for people: 617 req/s")
    emit(Figure("read by id", 617.4, "req/s", 0.785, "of min(/healthz, raw find_one)"))
    emit_table(Table("Load test", ("clients", "req/s"), (("1", "39"), ("4", "49"))))
    emit(Figure("Nguyễn's name", 3, "ms"))
    figures, tables = parse_records(capsys.readouterr().out, "crud")
    assert figures == [READ, Figure("Nguyễn's name", 3, "ms", None, "", "crud")]
    assert tables == [Table("Load test", ("clients", "req/s"), (("1", "39"), ("4", "49")),
                            "crud")]


def test_a_record_keeps_the_bench_it_names() -> None:
    figures, _ = parse_records('@figure {"name": "x", "value": 1, "unit": "s", '
                               '"bench": "analytics"}\n', "other")
    assert figures == [Figure("x", 1, "s", bench="analytics")]


def test_values_get_the_digits_they_need() -> None:
    assert [format_value(v) for v in (12345.6, 617.4, 12.34, 1.234, 0, 3.0, -0.5)] == [
        "12,346", "617", "12.3", "1.23", "0", "3", "-0.50"]
    assert format_ratio(0.785) == "×0.79"
    assert format_ratio(None) == ""


def test_text_table_aligns_columns() -> None:
    lines = text_table([READ, GROWTH]).splitlines()
    assert lines[0].split() == ["bench", "figure", "value", "unit", "ratio", "note"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert "617" in lines[2] and "×0.79" in lines[2] and lines[2].endswith("raw find_one)")
    value_column = lines[0].index("value") + len("value")
    assert lines[2][:value_column].endswith("617") and lines[3][:value_column].endswith("8.39")


def test_markdown_escapes_pipes_in_cells() -> None:
    table = markdown_table(("figure", "value"), [("Patient?identifier=sys|value", "8.39")])
    assert table.splitlines() == ["| figure | value |", "|---|---|",
                                  "| Patient?identifier=sys\\|value | 8.39 |"]


def test_report_has_facts_figures_tables_and_parameters() -> None:
    runs = [BenchRun("crud", "bench_crud", ("--requests", "500"), "create and read", "ok", 61.2,
                     figures=[READ]),
            BenchRun("load", "bench_load", (), "mix", "goal missed", 90, "exit 1",
                     figures=[GROWTH], tables=[LEVELS]),
            BenchRun("seed", "bench_seed", ("--people", "10"), "seed", "skipped", 0,
                     "the run's time budget was spent")]
    text = report_markdown("full", {"cores": "2", "commit": "abc1234"}, runs, 151,
                           "The machine was shared.")
    assert text.startswith("# Benchmark report (full)")
    assert "\n\nThe machine was shared.\n\n## Machine\n" in text
    assert "| cores | 2 |" in text and "| commit | abc1234 |" in text
    assert "| crud | read by id | 617 | req/s | ×0.79 | of min(/healthz, raw find_one) |" in text
    assert "| search | Patient?identifier=sys\\|value p50 @ 20,000 | 8.39 | ms | ×1.47 |" in text
    assert "## Load test\n\n| clients | req/s |\n|---|---|\n| 1 | 39 |\n| 4 | 49 |" in text
    assert "| crud | ok | 61 | --requests 500 | create and read |" in text
    assert "| load | goal missed (exit 1) | 90 | (defaults) | mix |" in text
    assert "| seed | skipped (the run's time budget was spent) | 0 | --people 10 |" in text
    assert "2.5 min" in text


def test_only_failures_and_timeouts_are_errors() -> None:
    statuses = {s: BenchRun("x", "bench_x", (), status=s).is_error
                for s in ("ok", "goal missed", "skipped", "failed", "timeout")}
    assert statuses == {"ok": False, "goal missed": False, "skipped": False, "failed": True,
                        "timeout": True}


def test_machine_facts_name_the_machine_and_the_commit() -> None:
    facts = machine_facts()
    assert facts["cores"] == str(os.cpu_count())
    assert facts["python"].split()[-1].count(".") == 2
    assert facts["date"].endswith("UTC")
    assert len(facts["commit"].split()[0]) >= 7 and facts["commit"] != "unknown"
    assert facts["database"].startswith("SecantusDB")
