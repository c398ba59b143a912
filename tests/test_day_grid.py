"""The grid arithmetic behind every metric, against counting day by day."""

from __future__ import annotations

import datetime as dt
import statistics

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as hst

from reliability.day_grid import OPEN, DayGrid

DAYS = 12
GRID = DayGrid(products=("a", "b", "c"), first=dt.date(2026, 3, 1), days=DAYS)

# Rows of (product, first day, last day, value); days may fall outside the window.
rows = hst.lists(
    hst.tuples(
        hst.integers(0, 2),
        hst.integers(-20, DAYS + 5),
        hst.one_of(hst.integers(-20, DAYS + 5), hst.just(OPEN)),
        hst.sampled_from([0.5, 1.0, 2.0, 3.5, 8.0, 13.0]),
    ),
    max_size=40,
)


def columns(sample: list[tuple[int, int, int, float]]) -> tuple[np.ndarray, ...]:
    product, lo, hi, value = zip(*sample, strict=True) if sample else ((),) * 4
    return (
        np.array(product, dtype=np.int64),
        np.array(lo, dtype=np.int64),
        np.array(hi, dtype=np.int64),
        np.array(value, dtype=float),
    )


def covering(
    sample: list[tuple[int, int, int, float]], product: int, day: int
) -> list[float]:
    return [v for p, lo, hi, v in sample if p == product and lo <= day <= hi]


@settings(max_examples=200, deadline=None)
@given(rows)
def test_running_count_is_the_number_of_intervals_covering_each_day(
    sample: list[tuple[int, int, int, float]],
) -> None:
    product, lo, hi, _ = columns(sample)

    counts = GRID.running_count(product, lo, hi)

    for p in range(3):
        for day in range(DAYS):
            assert counts[p, day] == len(covering(sample, p, day))


@settings(max_examples=200, deadline=None)
@given(rows)
def test_median_is_the_median_of_the_values_covering_each_day(
    sample: list[tuple[int, int, int, float]],
) -> None:
    product, lo, hi, value = columns(sample)

    medians = GRID.median(product, lo, hi, value)

    for p in range(3):
        for day in range(DAYS):
            values = covering(sample, p, day)
            if values:
                assert medians[p, day] == statistics.median(values)
            else:
                assert np.isnan(medians[p, day])


@settings(max_examples=200, deadline=None)
@given(
    hst.lists(
        hst.tuples(
            hst.integers(0, 2), hst.integers(-40, DAYS + 5), hst.integers(0, 50)
        ),
        max_size=40,
    ),
    hst.sampled_from([1, 7, 30]),
)
def test_window_sum_adds_the_trailing_days(
    sample: list[tuple[int, int, int]], width: int
) -> None:
    product, day, value = (
        (np.array(column, dtype=np.int64) for column in zip(*sample, strict=True))
        if sample
        else (np.array([], dtype=np.int64),) * 3
    )

    sums = GRID.window_sum(product, day, value.astype(float), width)

    for p in range(3):
        for d in range(DAYS):
            expected = sum(v for q, at, v in sample if q == p and d - width < at <= d)
            assert sums[p, d] == expected


def test_a_median_ignores_missing_values() -> None:
    medians = GRID.median(
        np.array([0, 0, 0]),
        np.array([0, 0, 0]),
        np.array([0, 0, 0]),
        np.array([1.0, np.nan, 3.0]),
    )

    assert medians[0, 0] == 2.0
