"""Quality metrics from SonarCloud measure history, as of each day."""

from __future__ import annotations

import duckdb
import numpy as np

from reliability.day_grid import DayGrid
from reliability.metric_sql import fetch_columns
from reliability.sources.sonar import SCORED_METRICS

# A measure history point that carries a value. A point without one (the
# metric was not computed in that analysis; a gate of NONE) does not hide an
# older value: metrics, evidence and insights all take the newest known point.
KNOWN_POINT_SQL = (
    "(value IS NOT NULL OR (text_value IS NOT NULL AND text_value <> 'NONE'))"
)
# Sonar measure keys, in the order of the measure axis below.
_MEASURES = SCORED_METRICS
_GATE_CODES = {"OK": 1, "WARN": 2, "ERROR": 3}
_RATINGS = {
    "reliability_rating": "reliability_rating",
    "security_rating": "security_rating",
    "sqale_rating": "maintainability_rating",
}
_POOLED = ("coverage", "duplicated_lines_density", "security_hotspots_reviewed")


def sonar(con: duckdb.DuckDBPyConnection, grid: DayGrid) -> dict[str, np.ndarray]:
    """The newest known value of each measure per project, pooled per product.

    A history point without a value (the metric was not computed in that
    analysis) does not hide an older value: we take the newest point that has one.
    """
    points = _points(con, grid)
    # One row per project (numbered in product order), values carried forward.
    projects = int(points["project"].max()) + 1 if len(points["project"]) else 0
    product = np.zeros(projects, dtype=np.int64)
    product[points["project"]] = points["pid"]
    latest = _carried(
        (projects, len(_MEASURES), grid.days),
        (points["project"], points["measure"], points["day"]),
        points["value"],
    )
    measure = {key: latest[:, index] for index, key in enumerate(_MEASURES)}
    values = {"quality_gate": _gate_status(grid, product, measure["alert_status"])}
    for key, name in _RATINGS.items():
        values[name] = _per_product(grid, product, measure[key], np.fmax)
    for name in _POOLED:
        values[name] = _weighted_by_lines(
            grid, product, measure[name], measure["ncloc"]
        )
    return values


def _points(con: duckdb.DuckDBPyConnection, grid: DayGrid) -> dict[str, np.ndarray]:
    # Each measure's newest known point per project and analysis day; points
    # before the window fold into its first day. The gate's value is its
    # status text, coded (0 for a text that is no status).
    keys = ", ".join(f"'{key}'" for key in _MEASURES)
    codes = " ".join(f"WHEN '{text}' THEN {code}" for text, code in _GATE_CODES.items())
    return fetch_columns(
        con,
        f"""
        WITH newest AS (
            SELECT product, project_key, metric,
                   greatest(day_of(analysed_at), 0) AS day,
                   arg_max_null(
                       CASE WHEN metric = 'alert_status'
                            THEN CASE upper(text_value) {codes} ELSE 0 END
                            ELSE value END,
                       analysed_at) AS value
            FROM sonar_measures
            WHERE metric IN ({keys}) AND day_of(analysed_at) < {grid.days}
              AND {KNOWN_POINT_SQL}
            GROUP BY ALL
        ),
        projects AS (
            SELECT pid, product, project_key,
                   row_number() OVER (ORDER BY pid, project_key) - 1 AS project
            FROM (SELECT DISTINCT product, project_key FROM newest)
            JOIN _products USING (product)
        )
        SELECT pid, project, list_position([{keys}], metric) - 1 AS measure, day,
               CAST(value AS DOUBLE) AS value
        FROM newest JOIN projects USING (product, project_key)
        """,
    )


def _carried(
    shape: tuple[int, int, int], at: tuple[np.ndarray, ...], values: np.ndarray
) -> np.ndarray:
    """Values set at (project, measure, day) cells, carried forward along days.

    A point whose value is missing is still the newest point and carries as
    missing; cells before any point are missing.
    """
    grid = np.full(shape, np.nan)
    grid[at] = values
    seen = np.full(shape, -1)
    seen[at] = at[2]
    newest = np.maximum.accumulate(seen, axis=2)
    carried = np.take_along_axis(grid, np.maximum(newest, 0), axis=2)
    return np.where(newest >= 0, carried, np.nan)


def _per_product(
    grid: DayGrid, product: np.ndarray, values: np.ndarray, reduce: np.ufunc
) -> np.ndarray:
    """``reduce`` over each product's projects; missing without any."""
    result = grid.missing()
    if len(product):
        owners, starts = np.unique(product, return_index=True)
        result[owners] = reduce.reduceat(values, starts, axis=0)
    return result


def _gate_status(grid: DayGrid, product: np.ndarray, gate: np.ndarray) -> np.ndarray:
    # The worst status of any project: ERROR, then WARN, then OK.
    worst = _per_product(grid, product, gate, np.fmax)
    status = np.full(grid.shape, None, dtype=object)
    for text, code in _GATE_CODES.items():
        status[worst == code] = text
    return status


def _weighted_by_lines(
    grid: DayGrid, product: np.ndarray, values: np.ndarray, ncloc: np.ndarray
) -> np.ndarray:
    # Weighted by lines of code when every project reporting the measure also
    # reports ncloc; equal weights otherwise (scoring.md).
    has_value = ~np.isnan(values)
    has_both = has_value & ~np.isnan(ncloc)

    def total(column: np.ndarray) -> np.ndarray:
        return _per_product(grid, product, column, np.add)

    reporting = total(has_value.astype(float))
    lines = total(np.where(has_both, ncloc, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        weighted = total(np.where(has_both, values * ncloc, 0.0)) / lines
        mean = total(np.where(has_value, values, 0.0)) / reporting
    by_lines = (total(has_both.astype(float)) == reporting) & (lines > 0)
    return np.where(reporting > 0, np.where(by_lines, weighted, mean), np.nan)
