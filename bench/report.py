"""The benchmark result protocol and the report `make bench` prints and writes.

A bench module prints its own figures for people. For the table it may also print records, one
per line: `emit(Figure(...))` writes `@figure {json}` and `emit_table(Table(...))` writes
`@table {json}`; `parse_records` reads them back from the module's output. Modules that print no
records are read by the adapters in bench/collect.py. Ratios are same-run ratios (ours against
a reference measured in the same run on the same machine), so a slow, shared machine moves the
figures more than the ratios.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

FIGURE_TAG = "@figure "
TABLE_TAG = "@table "


@dataclass(frozen=True)
class Figure:
    """One measured figure: its name, value and unit, and its same-run ratio with what it
    compares to (the note also carries the goal and the conditions)."""

    name: str
    value: float
    unit: str
    ratio: float | None = None
    note: str = ""
    bench: str = ""


@dataclass(frozen=True)
class Table:
    """A table of its own (the load test's levels): a title, column names and text rows."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    bench: str = ""


@dataclass
class BenchRun:
    """One bench module's run: its parameters, outcome, time taken and what it measured."""

    name: str
    module: str
    args: tuple[str, ...]
    what: str = ""
    status: str = "ok"  # ok | goal missed | failed | timeout | cut | skipped
    seconds: float = 0.0
    detail: str = ""
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)

    @property
    def is_error(self) -> bool:
        """True when the bench failed to run (slow figures and missed goals are no errors)."""
        return self.status in ("failed", "timeout")


def emit(figure: Figure) -> None:
    """Print a figure as a record line for the table."""
    print(FIGURE_TAG + json.dumps(asdict(figure), ensure_ascii=False), flush=True)


def emit_table(table: Table) -> None:
    """Print a table as a record line for the report."""
    print(TABLE_TAG + json.dumps(asdict(table), ensure_ascii=False), flush=True)


def parse_records(text: str, bench: str) -> tuple[list[Figure], list[Table]]:
    """The figure and table records printed in a module's output, named after `bench`."""
    figures: list[Figure] = []
    tables: list[Table] = []
    for line in text.splitlines():
        if line.startswith(FIGURE_TAG):
            data = json.loads(line[len(FIGURE_TAG):])
            figures.append(Figure(**{**data, "bench": data.get("bench") or bench}))
        elif line.startswith(TABLE_TAG):
            data = json.loads(line[len(TABLE_TAG):])
            tables.append(Table(data["title"], tuple(data["columns"]),
                                tuple(tuple(row) for row in data["rows"]),
                                data.get("bench") or bench))
    return figures, tables


def format_value(value: float) -> str:
    """A figure with as many digits as it needs: 12,345 / 123 / 12.3 / 1.23 (counts: 0, 3)."""
    size = abs(value)
    if size >= 1000 or float(value).is_integer():
        return f"{value:,.0f}"
    if size >= 100:
        return f"{value:.0f}"
    if size >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_ratio(ratio: float | None) -> str:
    """A ratio as ×0.62 (empty when there is none)."""
    return "" if ratio is None else f"×{ratio:.2f}"


def text_table(figures: list[Figure]) -> str:
    """The figures as an aligned plain-text table for the terminal."""
    rows = [("bench", "figure", "value", "unit", "ratio", "note")]
    rows += [(f.bench, f.name, format_value(f.value), f.unit, format_ratio(f.ratio), f.note)
             for f in figures]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = []
    for number, row in enumerate(rows):
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2].rjust(widths[2]),
                 row[3].ljust(widths[3]), row[4].rjust(widths[4]), row[5]]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * w for w in widths) + "  ----")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(columns: tuple[str, ...] | list[str], rows: list[tuple[str, ...]]) -> str:
    """A GitHub-flavoured markdown table (pipes in cells escaped)."""
    lines = ["| " + " | ".join(_cell(c) for c in columns) + " |",
             "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def figures_markdown(figures: list[Figure]) -> str:
    """The figures as a markdown table."""
    return markdown_table(("bench", "figure", "value", "unit", "ratio", "note"), [
        (f.bench, f.name, format_value(f.value), f.unit, format_ratio(f.ratio), f.note)
        for f in figures])


def _git(*args: str) -> str:
    try:
        found = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10,
                               cwd=Path(__file__).resolve().parents[1], check=False)
    except OSError:
        return ""
    return found.stdout.strip()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.0f} GiB"
    except OSError:
        pass
    return "unknown"


def load_average() -> str:
    """The 1/5/15-minute load averages (other work on the machine slows the figures)."""
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def machine_facts() -> dict[str, str]:
    """Cores, CPU, memory, Python, packages, date and commit of this run."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": (_git("rev-parse", "--short", "HEAD") or "unknown")
        + (" + uncommitted changes" if _git("status", "--porcelain", "--untracked-files=no")
           else ""),
        "cores": str(os.cpu_count()),
        "cpu": _cpu_model(),
        "memory": _memory_gib(),
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "os": platform.platform(),
        "database": f"SecantusDB {_version('SecantusDB')} (embedded, one process, loopback)",
        "server": f"gunicorn {_version('gunicorn')}, Flask {_version('flask')}",
        "load average at start": load_average(),
    }


def runs_markdown(runs: list[BenchRun]) -> str:
    """Each bench's outcome, time and parameters as a markdown table."""
    return markdown_table(("bench", "status", "seconds", "parameters", "measures"), [
        (run.name, run.status + (f" ({run.detail})" if run.detail else ""),
         f"{run.seconds:.0f}", " ".join(run.args) or "(defaults)", run.what)
        for run in runs])


def report_markdown(mode: str, facts: dict[str, str], runs: list[BenchRun],
                    seconds: float, note: str = "") -> str:
    """The whole report: machine facts, the figures table, extra tables, the runs."""
    figures = [figure for run in runs for figure in run.figures]
    parts = [f"# Benchmark report ({mode})", "",
             f"`python -m bench{' --quick' if mode == 'quick' else ''}` — {len(runs)} benches in "
             f"{seconds / 60:.1f} min. Ratios are same-run ratios (ours against a reference "
             "measured in the same run on the same machine); figures move with the machine's "
             "load, ratios much less.", *(["", note] if note else []), "", "## Machine", "",
             markdown_table(("fact", "value"), list(facts.items())), "",
             "## Figures", "", figures_markdown(figures) if figures else "(none)"]
    for run in runs:
        for table in run.tables:
            parts += ["", f"## {table.title}", "", markdown_table(table.columns,
                                                                   list(table.rows))]
    parts += ["", "## Runs and parameters", "", runs_markdown(runs), ""]
    return "\n".join(parts)
