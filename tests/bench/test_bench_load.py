"""bench/bench_load.py without a server (issue 16 point 7: a load test at rising concurrency on a
realistic mix until saturation): the stopping rule and the tables."""

from __future__ import annotations

from bench.bench_load import Level, kinds_table, saturated
from bench.http_load import LoadResult


def test_saturation_is_two_levels_without_5_percent_growth() -> None:
    assert not saturated([39, 40])
    assert not saturated([39, 39, 49])  # the third level still grows
    assert not saturated([39, 60, 61, 64])  # 64 beats 60 by 6.7 %
    assert saturated([39, 60, 61, 62])
    assert saturated([39, 60, 50, 48])


def test_level_rows_and_the_kinds_table() -> None:
    result = LoadResult(4, 2.0, 1, [10.0, 20.0, 30.0, 40.0])
    level = Level(8, result, [5.0, 9.5, 0.6], {"read Patient/id": [10.0, 20.0], "create Patient":
                                               [30.0, 40.0]})
    assert level.row() == ("8", "2", "30.0", "40.0", "40.0", "1", "5.0", "9.5", "0.6")
    table = kinds_table(level)
    assert table.title.endswith("(8 clients)")
    assert table.rows == (("read Patient/id", "2", "20.0", "20.0", "20.0"),
                          ("create Patient", "2", "40.0", "40.0", "40.0"))
