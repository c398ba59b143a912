"""What the Data sources page shows: sync runs, freshness and coverage.

Read-only queries on the store; nothing here imports Streamlit.
"""

from __future__ import annotations

import pandas as pd

from reliability.scoring import DIMENSION_SOURCES, DIMENSIONS
from reliability.snapshot import Snapshot
from reliability.store import Store

# Where each source's rows live, to count what the store holds per product.
SOURCE_TABLES = {
    "sentry": ("sentry_issues", "sentry_sessions"),
    "sonar": ("sonar_measures",),
    "jira": ("jira_tickets",),
    "azure": ("azure_requests",),
}


def source_status(store: Store) -> pd.DataFrame:
    """One row per source and product that was ever pulled.

    Columns: ``source``, ``product``, ``last_success`` (finish of the newest
    successful pull, or NaT), ``last_run``, ``last_result``, ``last_error``
    (of the newest run), ``runs``, ``failures`` and ``rows`` (rows held now).
    """
    counts = " UNION ALL ".join(
        f"SELECT '{source}' AS source, product, count(*) AS n FROM {table} GROUP BY ALL"
        for source, tables in SOURCE_TABLES.items()
        for table in tables
    )
    return store.query(
        f"""
        WITH held AS (
            SELECT source, product, sum(n) AS rows FROM ({counts}) GROUP BY ALL
        ),
        runs AS (
            SELECT source, product,
                   max(finished_at) FILTER (result = 'ok') AS last_success,
                   max(coalesce(finished_at, started_at)) AS last_run,
                   arg_max(result, coalesce(finished_at, started_at)) AS last_result,
                   arg_max(error, coalesce(finished_at, started_at)) AS last_error,
                   count(*) AS runs,
                   count(*) FILTER (result = 'failed') AS failures
            FROM sync_runs GROUP BY ALL
        )
        SELECT r.*, coalesce(h.rows, 0) AS rows
        FROM runs r LEFT JOIN held h USING (source, product)
        ORDER BY r.source, r.product
        """
    )


def freshness(status: pd.DataFrame) -> pd.DataFrame:
    """Per source: the oldest and newest successful pull across its products."""
    if status.empty:
        return pd.DataFrame(
            columns=["source", "products", "oldest", "newest", "failing"]
        )
    grouped = status.groupby("source")
    return pd.DataFrame(
        {
            "products": grouped["product"].nunique(),
            "oldest": grouped["last_success"].min(),
            "newest": grouped["last_success"].max(),
            "failing": grouped["last_result"].apply(
                lambda r: int((r == "failed").sum())
            ),
        }
    ).reset_index()


def recent_runs(store: Store, limit: int = 200) -> pd.DataFrame:
    """The newest sync runs first, with their error messages."""
    return store.query(
        """
        SELECT started_at, finished_at, source, product, rows, result, error
        FROM sync_runs ORDER BY coalesce(finished_at, started_at) DESC LIMIT ?
        """,
        [limit],
    )


def coverage_matrix(snapshot: Snapshot) -> pd.DataFrame:
    """Per product, the share of each dimension's weight that has data today.

    A dimension whose source the product does not configure is NaN ("not
    configured"), which is different from configured but without data (0).
    """
    today = snapshot.today()
    products = snapshot.products.set_index("slug")
    matrix = pd.DataFrame(index=products.index)
    matrix["name"] = products["name"]
    for dim in DIMENSIONS:
        configured = products["sources"].apply(
            lambda sources, source=DIMENSION_SOURCES[dim]: source in list(sources)
        )
        coverage = today[f"{dim}_coverage"].reindex(products.index).fillna(0.0)
        matrix[dim] = coverage.where(configured)
    return matrix.reset_index()
