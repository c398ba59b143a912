"""SQL building blocks shared by the metric queries: daily grids and running counts.

A count of things whose membership is an interval of days is a difference array:
+1 on the interval's first day, -1 on the day after its last, and a running sum
per product over the day grid (the temporary tables ``_grid`` and ``_grid_ext``
that ``create_grid`` makes). That is one pass over the rows, with no product x
day x row join.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from reliability.store import fetch_value


def create_grid(con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date) -> None:
    # The extended grid starts 30 days early so that 30-day window sums are full
    # on the first day of the trend.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _grid_ext AS
        SELECT p.slug AS product, CAST(d AS DATE) AS day
        FROM products p, range(CAST(? AS DATE) - INTERVAL 30 DAY,
                               CAST(? AS DATE) + INTERVAL 1 DAY, INTERVAL 1 DAY) t(d)
        """,
        [first, last],
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _grid AS SELECT * FROM _grid_ext WHERE day >= ?",
        [first],
    )


def running_counts(
    con: duckdb.DuckDBPyConnection,
    deltas_sql: str,
    first: dt.date,
    names: tuple[str, ...],
) -> pd.DataFrame:
    """Turn ``(product, name, day, delta)`` rows into a daily count column per name.

    Deltas before the window are folded into its first day, so an interval that
    began long ago still counts; deltas after the window are dropped by the join.
    With no deltas at all the frame has no rows.
    """
    # Folded per product and day with one column per name, then summed by one
    # window over the grid: a row per name, day and product cost seconds (#7).
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _folded AS
        WITH deltas AS ({deltas_sql})
        SELECT product, greatest(day, CAST(? AS DATE)) AS day,
               {", ".join(f"sum(delta) FILTER (name = '{n}') AS {n}" for n in names)}
        FROM deltas GROUP BY ALL
        """,
        [first],
    )
    if not fetch_value(con, "SELECT count(*) FROM _folded"):
        return pd.DataFrame(columns=["product", "day"])
    return con.execute(
        f"""
        SELECT g.product, g.day,
               {
            ", ".join(
                f"CAST(sum(coalesce(f.{n}, 0)) OVER w AS DOUBLE) AS {n}" for n in names
            )
        }
        FROM _grid g LEFT JOIN _folded f USING (product, day)
        WINDOW w AS (PARTITION BY g.product ORDER BY g.day)
        """
    ).df()


def interval_deltas(name: str, source: str, start: str, end: str, sign: int = 1) -> str:
    """SQL for +1/-1 deltas of inclusive day intervals ``[start, end]``.

    ``end`` may be NULL for an interval still open; empty intervals are skipped.
    A ``sign`` of -1 subtracts the intervals instead (to count an overlap once).
    """
    return f"""
        SELECT product, '{name}' AS name, {start} AS day, {sign} AS delta
        FROM {source} WHERE {end} IS NULL OR {end} >= {start}
        UNION ALL
        SELECT product, '{name}', CAST({end} + INTERVAL 1 DAY AS DATE), {-sign}
        FROM {source} WHERE {end} IS NOT NULL AND {end} >= {start}"""


def products_with(
    con: duckdb.DuckDBPyConnection, source: str, table: str
) -> pd.DataFrame:
    """Products whose source has delivered data: a successful pull, or rows."""
    return con.execute(
        f"""
        SELECT DISTINCT product FROM sync_state WHERE source = ?
        UNION SELECT DISTINCT product FROM {table}
        """,
        [source],
    ).df()


def source_counts(
    con: duckdb.DuckDBPyConnection,
    deltas_sql: str,
    first: dt.date,
    names: tuple[str, ...],
    *,
    source: str,
    table: str,
) -> pd.DataFrame:
    """``running_counts`` kept to the products whose ``source`` delivered data.

    A product that never synced the source has no counts at all (missing), not
    counts of 0 that would read as perfect.
    """
    wide = running_counts(con, deltas_sql, first, names)
    if wide.empty:
        return wide
    has_data = set(products_with(con, source, table)["product"])
    return wide[wide["product"].isin(has_data)].copy()


def ratio_or_best(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """``numerator / denominator``, and 1.0 where there was nothing to count."""
    return (numerator / denominator).where(denominator > 0, 1.0)
