"""System health metrics from Azure request totals, as of each day."""

from __future__ import annotations

import duckdb
import pandas as pd


def azure(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    # Daily p95s cannot be merged exactly; the 7-day figure is their mean
    # weighted by requests, which tracks the true p95 closely when traffic is even.
    return con.execute(
        """
        WITH daily AS (
            SELECT product, day, sum(total) AS total, sum(failed) AS failed,
                   sum(p95_ms * total) AS p95_weighted,
                   sum(total) FILTER (p95_ms IS NOT NULL) AS p95_total
            FROM azure_requests GROUP BY ALL
        ),
        windowed AS (
            SELECT g.product, g.day,
                   sum(d.total) OVER w30 AS total_30, sum(d.failed) OVER w30 AS failed_30,
                   sum(d.total) OVER w7 AS total_7, sum(d.failed) OVER w7 AS failed_7,
                   sum(d.p95_weighted) OVER w7 AS p95_weighted_7,
                   sum(d.p95_total) OVER w7 AS p95_total_7
            FROM _grid_ext g LEFT JOIN daily d USING (product, day)
            WINDOW w30 AS (PARTITION BY g.product ORDER BY g.day
                           ROWS BETWEEN 29 PRECEDING AND CURRENT ROW),
                   w7 AS (PARTITION BY g.product ORDER BY g.day
                          ROWS BETWEEN 6 PRECEDING AND CURRENT ROW)
        )
        SELECT w.product, w.day,
               CASE WHEN total_30 > 0 THEN greatest(0.0, least(1.0,
                   1 - (failed_30 / total_30) / (1 - p.slo / 100.0))) END
                   AS error_budget_remaining,
               CASE WHEN p95_total_7 > 0 THEN p95_weighted_7 / p95_total_7 END
                   AS p95_response_ms,
               CASE WHEN total_7 > 0 THEN 100.0 * failed_7 / total_7 END
                   AS failed_request_rate
        FROM windowed w JOIN _grid USING (product, day)
        JOIN products p ON p.slug = w.product
        """
    ).df()
