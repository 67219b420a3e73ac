"""Small-cell suppression of the indicator tables (fhir_server/operations/analytics_privacy.py):
counts of 1-4 masked, complementary cells so that subtraction from a published total (R4
measurereport.html: MeasureReport.group.population.count is the total of the strata of
group.stratifier) recovers no masked cell."""

from __future__ import annotations

import itertools
import random

from fhir_server.operations.analytics_privacy import THRESHOLD, mask_column, small, suppress


def _safe(values: list[int], masked: set[int], line: list[int]) -> bool:
    """A line is safe when it hides nothing, or at least 2 cells summing to THRESHOLD+, or its
    own total is masked (under THRESHOLD)."""
    hidden = [i for i in line if i in masked]
    return not hidden or (len(hidden) >= 2 and sum(values[i] for i in hidden) >= THRESHOLD) or (
        sum(values[i] for i in line) < THRESHOLD)


def _exhausted(values: list[int], masked: set[int], line: list[int]) -> bool:
    """No shown non-zero cell is left in the line to mask (best effort across reports)."""
    return all(i in masked or values[i] == 0 for i in line)


def test_primary_rule() -> None:
    assert [small(v) for v in (0, 1, 4, 5, 100, None)] == [False, True, True, False, False,
                                                          False]


def test_one_masked_cell_gets_a_complement() -> None:
    keys = [{"province": p} for p in ("01", "79", "92")]
    values = [3, 40, 12]
    masked = mask_column(values, keys, ["province"])
    assert masked == {0, 2}  # 3 masked; the smallest shown non-zero (12) hides it
    shown_sum = sum(v for i, v in enumerate(values) if i not in masked)
    assert sum(values) - shown_sum == 15  # subtraction gives the pair's sum, not the 3


def test_two_small_cells_summing_under_the_threshold_take_a_third() -> None:
    keys = [{"group": g} for g in "1234"]
    values = [1, 2, 30, 50]
    assert mask_column(values, keys, ["group"]) == {0, 1, 2}


def test_zero_cells_are_not_masked_nor_used_as_complements() -> None:
    keys = [{"vaccine": v} for v in ("a", "b", "c")]
    assert mask_column([2, 0, 9], keys, ["vaccine"]) == {0, 2}
    assert mask_column([0, 0, 9], keys, ["vaccine"]) == set()


def test_cross_table_protects_rows_and_columns() -> None:
    """Province x group: each province's row and each group's column is protected, since a
    call stratified by one dimension publishes their sums."""
    provinces, groups = ("01", "79", "92"), ("1", "9", "15")
    keys = [{"province": p, "group": g} for p, g in itertools.product(provinces, groups)]
    values = [2, 50, 60, 70, 80, 90, 11, 12, 13]
    masked = mask_column(values, keys, ["province", "group"])
    lines = [[i for i, k in enumerate(keys) if k["province"] == p] for p in provinces] + [
        [i for i, k in enumerate(keys) if k["group"] == g] for g in groups]
    assert 0 in masked
    assert all(_safe(values, masked, line) for line in lines)


def test_random_tables_are_safe() -> None:
    """The whole table (whose sum is the report's total) is always safe; each row and column
    is safe unless no shown non-zero cell is left to mask in it."""
    rng = random.Random(15)
    for _ in range(300):
        rows, cols = rng.randint(1, 5), rng.randint(1, 4)
        keys = [{"a": str(r), "b": str(c)} for r in range(rows) for c in range(cols)]
        values = [rng.choice((0, 1, 2, 3, 4, 5, 8, 20, 100)) for _ in keys]
        masked = mask_column(values, keys, ["a", "b"])
        assert {i for i, v in enumerate(values) if small(v)} <= masked
        assert _safe(values, masked, list(range(len(keys)))), (values, masked)
        lines = [[i for i, k in enumerate(keys) if k["a"] == str(r)] for r in range(rows)] + [
            [i for i, k in enumerate(keys) if k["b"] == str(c)] for c in range(cols)]
        assert all(_safe(values, masked, line) or _exhausted(values, masked, line)
                   for line in lines), (values, masked)
        one_dimension = mask_column(values, [{"a": str(i)} for i in range(len(keys))], ["a"])
        assert _safe(values, one_dimension, list(range(len(keys))))


def test_suppress_masks_totals_and_keeps_the_population() -> None:
    strata = [({"province": "01"}, {"people_1plus": 3, "population": 900}),
              ({"province": "79"}, {"people_1plus": 7, "population": 1200})]
    total, shown = suppress({"people_1plus": 10, "population": 2100}, strata, ["province"],
                            ["people_1plus", "population"])
    assert total == {"people_1plus": 10, "population": 2100}
    assert shown == [{"people_1plus": None, "population": 900},
                     {"people_1plus": None, "population": 1200}]
    small_total, _ = suppress({"people_1plus": 4, "population": 3}, [], [],
                              ["people_1plus", "population"])
    assert small_total == {"people_1plus": None, "population": 3}
