"""The SQL side of the metric computation: integer keys and columns as arrays.

``create_grid`` makes the temporary table ``_products`` (each product's id,
slug and SLO) and the macro ``day_of(x)`` (a date's offset from the window's
first day), so that metric queries hand numpy integers, not strings and dates:
turning 180,000 product names and dates into Python objects per query cost
more than the queries themselves (#7).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import numpy as np

from reliability.day_grid import DayGrid


def create_grid(con: duckdb.DuckDBPyConnection, first: dt.date, days: int) -> DayGrid:
    """The window's grid; products are numbered in slug order from 0."""
    define_keys(con, first)
    slugs = con.execute("SELECT product FROM _products ORDER BY pid").fetchall()
    return DayGrid(products=tuple(slug for (slug,) in slugs), first=first, days=days)


def define_keys(con: duckdb.DuckDBPyConnection, first: dt.date) -> None:
    """Make ``_products`` and ``day_of`` on ``con`` (temporary: per connection)."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _products AS
        SELECT CAST(row_number() OVER (ORDER BY slug) - 1 AS BIGINT) AS pid,
               slug AS product, slo
        FROM products
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP MACRO day_of(x) AS
        date_diff('day', DATE '{first.isoformat()}', CAST(x AS DATE))
        """
    )


def day_end(day: dt.date) -> dt.datetime:
    """The first instant after ``day``: "as of the end of d" is strictly before it."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time())


def fetch_columns(
    con: duckdb.DuckDBPyConnection, sql: str, params: Any = None
) -> dict[str, np.ndarray]:
    """The result's columns as numpy arrays.

    A NULL in a float column becomes NaN; any other NULL is a mistake in the
    query (an open-ended day offset is ``day_grid.OPEN``, not NULL).
    """
    columns = {}
    for name, column in con.execute(sql, params).fetchnumpy().items():
        if np.ma.isMaskedArray(column):
            if not np.issubdtype(column.dtype, np.floating):
                raise ValueError(f"metric query returned NULL in column {name}")
            column = column.filled(np.nan)
        columns[name] = np.asarray(column)
    return columns


def products_with(
    con: duckdb.DuckDBPyConnection, source: str, table: str
) -> np.ndarray:
    """Ids of the products whose source has delivered: a successful pull, or rows."""
    return fetch_columns(
        con,
        f"""
        SELECT pid FROM _products
        WHERE product IN (SELECT product FROM sync_state WHERE source = ?
                          UNION SELECT product FROM {table})
        """,
        [source],
    )["pid"]
