"""Runtime metrics from Sentry rows: open critical issues, new issues,
resolution rate, time to resolve and crash-free sessions, as of each day."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from reliability.metric_sql import interval_deltas, ratio_or_best, source_counts


def create_issue_states(con: duckdb.DuckDBPyConnection) -> None:
    """One row per stretch of days an issue spent open or resolved.

    An issue's state as of d is the one its last change by the end of d set; a
    stretch ends the day before the next change's day, so two changes on one
    day leave only the later one in force.
    """
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _issue_states AS
        WITH changes AS (
            SELECT product, issue_id, first_seen AS ts, 'open' AS state, 0 AS rank
            FROM sentry_issues
            UNION
            SELECT product, issue_id, changed_at,
                   CASE WHEN kind = 'resolved' THEN 'resolved' ELSE 'open' END, 1
            FROM sentry_issue_changes
            UNION
            SELECT product, issue_id, resolved_at, 'resolved', 1
            FROM sentry_issues WHERE resolved_at IS NOT NULL
            UNION
            SELECT product, issue_id, regressed_at, 'open', 1
            FROM sentry_issues WHERE regressed_at IS NOT NULL
        ),
        ordered AS (
            SELECT c.*, CAST(c.ts AS DATE) AS from_day,
                   CAST(lead(c.ts) OVER w AS DATE) - 1 AS to_day
            FROM changes c
            WINDOW w AS (PARTITION BY product, issue_id ORDER BY ts, rank)
        )
        SELECT o.product, o.issue_id, o.state, o.ts, o.from_day, o.to_day,
               i.level, i.first_seen, CAST(i.first_seen AS DATE) AS first_day
        FROM ordered o JOIN sentry_issues i USING (product, issue_id)
        WHERE o.to_day IS NULL OR o.to_day >= o.from_day
        """
    )


SENTRY_COUNTS = (
    "open_critical_issues",
    "new_issues_30d",
    "_first_seen_90d",
    "_resolved_of_90d",
)


def sentry_counts(
    con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date
) -> pd.DataFrame:
    create_issue_states(con)
    issues = "(SELECT product, CAST(first_seen AS DATE) AS f FROM sentry_issues)"
    critical_open = (
        "(SELECT * FROM _issue_states WHERE state = 'open' "
        "AND lower(level) IN ('fatal', 'error'))"
    )
    resolved = "(SELECT * FROM _issue_states WHERE state = 'resolved')"
    deltas = " UNION ALL ".join(
        [
            interval_deltas(
                "open_critical_issues", critical_open, "from_day", "to_day"
            ),
            interval_deltas(
                "new_issues_30d", issues, "f", "CAST(f + INTERVAL 29 DAY AS DATE)"
            ),
            interval_deltas(
                "_first_seen_90d", issues, "f", "CAST(f + INTERVAL 89 DAY AS DATE)"
            ),
            interval_deltas(
                "_resolved_of_90d",
                resolved,
                "from_day",
                "least(coalesce(to_day, DATE '9999-12-31'), "
                "CAST(first_day + INTERVAL 89 DAY AS DATE))",
            ),
        ]
    )
    wide = source_counts(
        con, deltas, first, SENTRY_COUNTS, source="sentry", table="sentry_issues"
    )
    if wide.empty:
        return wide
    wide["resolution_rate_90d"] = ratio_or_best(
        wide["_resolved_of_90d"], wide["_first_seen_90d"]
    )
    columns = ["open_critical_issues", "new_issues_30d", "resolution_rate_90d"]
    return wide[["product", "day", *columns]]


def sentry_mttr(
    con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date
) -> pd.DataFrame:
    # A resolution counts for 90 days from its day, while it stands.
    return con.execute(
        """
        WITH spans AS (
            SELECT product,
                   date_diff('second', first_seen, ts) / 86400.0 AS days_to_resolve,
                   greatest(from_day, CAST(? AS DATE)) AS lo,
                   least(coalesce(to_day, DATE '9999-12-31'),
                         CAST(from_day + INTERVAL 89 DAY AS DATE),
                         CAST(? AS DATE)) AS hi
            FROM _issue_states WHERE state = 'resolved'
        ),
        expanded AS (
            SELECT product, days_to_resolve,
                   unnest(range(date_diff('day', CAST(? AS DATE), lo),
                                date_diff('day', CAST(? AS DATE), hi) + 1)) AS day_offset
            FROM spans WHERE hi >= lo
        )
        SELECT product, CAST(? AS DATE) + CAST(day_offset AS INTEGER) AS day,
               median(days_to_resolve) AS mttr_days
        FROM expanded GROUP BY product, day_offset
        """,
        [first, last, first, first, first],
    ).df()


def crash_free(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        """
        WITH daily AS (
            SELECT product, day, sum(sessions) AS sessions, sum(crashed) AS crashed
            FROM sentry_sessions GROUP BY ALL
        ),
        windowed AS (
            SELECT g.product, g.day,
                   sum(d.sessions) OVER w AS sessions, sum(d.crashed) OVER w AS crashed
            FROM _grid_ext g LEFT JOIN daily d USING (product, day)
            WINDOW w AS (PARTITION BY g.product ORDER BY g.day
                         ROWS BETWEEN 29 PRECEDING AND CURRENT ROW)
        )
        SELECT w.product, w.day,
               CASE WHEN sessions > 0 THEN 100.0 * (1 - crashed / sessions) END
                   AS crash_free_sessions
        FROM windowed w JOIN _grid USING (product, day)
        """
    ).df()
