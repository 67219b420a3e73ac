"""Small-cell suppression of indicator tables (the rule every analytics answer follows).

Rule: a count of 1 to 4 (`THRESHOLD` - 1) people, doses, registrations or events is masked
(primary suppression); 0 and 5 or more are shown; the population denominator (from a data
file, not records of people) is never masked. A rate or proportion is masked with its
numerator or denominator, since either could be recomputed from the score.

Complementary (secondary) suppression, so that a masked cell cannot be recovered by
subtracting the shown cells from a published total. A "line" is a set of strata whose sum is
published: all the strata of the report (their sum is the group's population count), and, with
several dimensions (e.g. province x group), each set of strata that differ in one dimension
only (each province's groups, each group's provinces), whose sums a call stratified by one
dimension less publishes. In every line holding a masked cell, the smallest shown non-zero
cells are masked too until the line has at least two masked cells summing to at least
`THRESHOLD`, repeated over all lines until nothing changes. A total (the report's group
population) is masked by the primary rule only.

Guarantee: within one report, the masked cells of a measure are at least two and sum to at
least `THRESHOLD` (or the total itself is masked), so the total minus the shown strata never
gives a masked count. Across reports (rows and columns of a cross-table against calls with one
dimension less) it is best effort: a line whose other cells are all zero cannot be protected.
What it does not protect against: differencing two reports with different filters or periods
(e.g. a period ending on day 10 and one ending on day 11), and relations between measures of
the same people (people with one dose = people_1plus - people_primary). Every call is audited.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

THRESHOLD = 5
NEVER_MASKED = frozenset({"population"})
Counts = dict[str, int | None]


def small(value: int | None) -> bool:
    """True for a count the primary rule masks (1 to THRESHOLD - 1)."""
    return value is not None and 0 < value < THRESHOLD


def _lines(keys: Sequence[dict[str, str]], dimensions: Sequence[str]) -> list[list[int]]:
    """Index lists of the strata whose sums are published (see the module doc)."""
    lines: list[list[int]] = [list(range(len(keys)))]
    if len(dimensions) < 2:
        return lines
    for varying in dimensions:
        fixed = [d for d in dimensions if d != varying]
        by_rest: dict[tuple[str, ...], list[int]] = {}
        for index, key in enumerate(keys):
            by_rest.setdefault(tuple(key.get(d, "") for d in fixed), []).append(index)
        lines.extend(by_rest.values())
    return lines


def _protect(values: list[int], masked: set[int], line: list[int]) -> bool:
    """Mask more cells of one line until it is safe; True when something changed."""
    hidden = [i for i in line if i in masked]
    if not hidden:
        return False
    changed = False
    while len(hidden) < 2 or sum(values[i] for i in hidden) < THRESHOLD:
        shown = sorted((values[i], i) for i in line if i not in masked and values[i] > 0)
        if not shown:
            break
        _, pick = shown[0]
        masked.add(pick)
        hidden.append(pick)
        changed = True
    return changed


def mask_column(values: list[int], keys: Sequence[dict[str, str]],
                dimensions: Sequence[str]) -> set[int]:
    """The indexes of the strata to mask for one measure (primary + complementary)."""
    masked = {i for i, value in enumerate(values) if small(value)}
    lines = _lines(keys, dimensions)
    changed = bool(masked)
    while changed:
        changed = False
        for line in lines:
            changed = _protect(values, masked, line) or changed
    return masked


def suppress(total: dict[str, int], strata: Sequence[tuple[dict[str, str], dict[str, int]]],
             dimensions: Sequence[str], measures: Iterable[str]
             ) -> tuple[Counts, list[Counts]]:
    """The total and strata counts with masked counts as None (the module's rule)."""
    measures = list(measures)
    shown_total: Counts = {m: (None if m not in NEVER_MASKED and small(total.get(m, 0))
                               else total.get(m, 0)) for m in measures}
    keys = [key for key, _ in strata]
    shown: list[Counts] = [{m: counts.get(m, 0) for m in measures} for _, counts in strata]
    for measure in measures:
        if measure in NEVER_MASKED:
            continue
        values = [counts.get(measure, 0) for _, counts in strata]
        for index in mask_column(values, keys, dimensions):
            shown[index][measure] = None
    return shown_total, shown
