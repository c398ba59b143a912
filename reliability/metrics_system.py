"""System health metrics from Azure request totals, as of each day."""

from __future__ import annotations

import duckdb
import numpy as np

from reliability.day_grid import DayGrid
from reliability.metric_sql import fetch_columns


def azure(con: duckdb.DuckDBPyConnection, grid: DayGrid) -> dict[str, np.ndarray]:
    """Error budget left over 30 days, p95 response time and failure rate over 7."""
    # Daily p95s cannot be merged exactly; the 7-day figure is their mean
    # weighted by requests, which tracks the true p95 closely when traffic is even.
    daily = fetch_columns(
        con,
        """
        SELECT pid, day_of(day) AS day,
               CAST(sum(total) AS DOUBLE) AS total,
               CAST(sum(failed) AS DOUBLE) AS failed,
               coalesce(sum(p95_ms * total), 0) AS p95_weighted,
               CAST(coalesce(sum(total) FILTER (p95_ms IS NOT NULL), 0) AS DOUBLE)
                   AS p95_total
        FROM azure_requests JOIN _products USING (product) GROUP BY ALL
        """,
    )
    slo = fetch_columns(con, "SELECT slo FROM _products ORDER BY pid")["slo"]

    def over(column: str, width: int) -> np.ndarray:
        return grid.window_sum(daily["pid"], daily["day"], daily[column], width)

    total_30, failed_30 = over("total", 30), over("failed", 30)
    total_7, failed_7 = over("total", 7), over("failed", 7)
    p95_weighted_7, p95_total_7 = over("p95_weighted", 7), over("p95_total", 7)
    with np.errstate(divide="ignore", invalid="ignore"):
        budget = 1 - (failed_30 / total_30) / (1 - slo[:, None] / 100.0)
        return {
            "error_budget_remaining": np.where(
                total_30 > 0, np.clip(budget, 0.0, 1.0), np.nan
            ),
            "p95_response_ms": np.where(
                p95_total_7 > 0, p95_weighted_7 / p95_total_7, np.nan
            ),
            "failed_request_rate": np.where(
                total_7 > 0, 100.0 * failed_7 / total_7, np.nan
            ),
        }
