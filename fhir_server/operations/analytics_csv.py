"""An indicator table as CSV (RFC 4180): a header row with the dimension names, the measure
names and the score columns, then one row per stratum (the total alone when not stratified).

Dimension cells hold the codes (province, commune, group, vaccine), the Location id (site), the
lot or the date text; "" for an unknown value. Count cells are integers, "" when masked
(analytics_privacy.py); score columns `<measure>_proportion` (0..1) and `<measure>_per_100000`,
"" when masked or without a denominator. A text cell starting with = + - @ is prefixed with '
so that spreadsheets do not run it as a formula.
"""

from __future__ import annotations

import csv
import io

from fhir_server.operations.analytics_measures import Group
from fhir_server.operations.analytics_privacy import Counts
from fhir_server.operations.analytics_report import Table, score

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def score_column(group: Group) -> str:
    """The CSV column name of a group's score."""
    return f"{group.code}_{'proportion' if group.scoring == 'proportion' else 'per_100000'}"


def cell_text(value: str) -> str:
    """A text cell, a leading formula character defused with '."""
    return f"'{value}" if value.startswith(FORMULA_START) else value


def _cells(table: Table, counts: Counts) -> list[str]:
    out = ["" if counts.get(m) is None else str(counts[m]) for m in table.indicator.measures()]
    for group in table.indicator.groups:
        if group.scoring != "count":
            value = score(group, counts)
            out.append("" if value is None else repr(value))
    return out


def header(table: Table) -> list[str]:
    """The header row."""
    return [*table.by, *table.indicator.measures(),
            *(score_column(g) for g in table.indicator.groups if g.scoring != "count")]


def to_csv(table: Table) -> bytes:
    """The CSV document (UTF-8, CRLF line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header(table))
    if not table.by:
        writer.writerow(_cells(table, table.total))
    for key, counts in table.rows:
        writer.writerow([*(cell_text(key.get(d, "")) for d in table.by), *_cells(table, counts)])
    return buffer.getvalue().encode("utf-8")
