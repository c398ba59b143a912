"""Runtime metrics from Sentry rows: open critical issues, new issues,
resolution rate, time to resolve and crash-free sessions, as of each day."""

from __future__ import annotations

import duckdb
import numpy as np

from reliability.day_grid import OPEN, DayGrid, ratio_or_best
from reliability.metric_sql import fetch_columns, products_with

# The stretches of days each issue spent open or resolved: a WITH list ending
# in the relation ``issue_states``. An issue's state as of d is the one its last
# change by the end of d set; a stretch ends the day before the next change's
# day, so two changes on one day leave only the later one in force. Changes
# are keyed by the issue's row id (ordering by an integer instead of the
# product and issue id strings is a third faster), and kept with UNION ALL: a
# change listed twice makes a stretch that ends before it starts, dropped below.
ISSUE_STATES_SQL = """
    issues AS (SELECT rowid AS issue, * FROM sentry_issues),
    changes AS (
        SELECT issue, first_seen AS ts, false AS resolved, 0 AS rank
        FROM issues
        UNION ALL
        SELECT i.issue, c.changed_at, c.kind = 'resolved', 1
        FROM sentry_issue_changes c JOIN issues i USING (product, issue_id)
        UNION ALL
        SELECT issue, resolved_at, true, 1
        FROM issues WHERE resolved_at IS NOT NULL
        UNION ALL
        SELECT issue, regressed_at, false, 1
        FROM issues WHERE regressed_at IS NOT NULL
    ),
    ordered AS (
        SELECT c.*, CAST(c.ts AS DATE) AS from_day,
               CAST(lead(c.ts) OVER w AS DATE) - 1 AS to_day
        FROM changes c
        WINDOW w AS (PARTITION BY issue ORDER BY ts, rank)
    ),
    issue_states AS (
        SELECT i.product, i.issue_id,
               CASE WHEN o.resolved THEN 'resolved' ELSE 'open' END AS state,
               o.ts, o.from_day, o.to_day, i.level, i.first_seen,
               CAST(i.first_seen AS DATE) AS first_day
        FROM ordered o JOIN issues i USING (issue)
        WHERE o.to_day IS NULL OR o.to_day >= o.from_day
    )"""


def sentry(con: duckdb.DuckDBPyConnection, grid: DayGrid) -> dict[str, np.ndarray]:
    """Open critical issues, new issues, resolution rate and time to resolve."""
    issues = fetch_columns(
        con,
        """SELECT pid, day_of(first_seen) AS first
           FROM sentry_issues JOIN _products USING (product)""",
    )
    states = fetch_columns(
        con,
        f"""
        WITH {ISSUE_STATES_SQL}
        SELECT pid, state = 'resolved' AS resolved,
               lower(level) IN ('fatal', 'error') AS critical,
               day_of(from_day) AS lo, coalesce(day_of(to_day), {OPEN}) AS hi,
               day_of(first_day) AS first,
               date_diff('second', first_seen, ts) / 86400.0 AS days_to_resolve
        FROM issue_states JOIN _products USING (product)
        """,
    )
    pid, lo, hi = states["pid"], states["lo"], states["hi"]
    open_critical = ~states["resolved"] & states["critical"]
    resolved = states["resolved"]
    first_seen_90d = grid.running_count(
        issues["pid"], issues["first"], issues["first"] + 89
    )
    # A resolution counts for the rate while it stands, within 90 days of the
    # issue's first day, and for time to resolve for 90 days from its own day.
    resolved_of_90d = grid.running_count(
        pid[resolved], lo[resolved], np.minimum(hi, states["first"] + 89)[resolved]
    )
    counts = {
        "open_critical_issues": grid.running_count(
            pid[open_critical], lo[open_critical], hi[open_critical]
        ),
        "new_issues_30d": grid.running_count(
            issues["pid"], issues["first"], issues["first"] + 29
        ),
        "resolution_rate_90d": ratio_or_best(resolved_of_90d, first_seen_90d),
    }
    # A product that never synced Sentry has no counts (missing), not counts
    # of 0 that would read as perfect.
    with_data = products_with(con, "sentry", "sentry_issues")
    values = {name: grid.only(count, with_data) for name, count in counts.items()}
    values["mttr_days"] = grid.median(
        pid[resolved],
        lo[resolved],
        np.minimum(hi, lo + 89)[resolved],
        states["days_to_resolve"][resolved],
    )
    return values


def crash_free(con: duckdb.DuckDBPyConnection, grid: DayGrid) -> dict[str, np.ndarray]:
    """Crash-free sessions over 30 days, every project of a product pooled."""
    daily = fetch_columns(
        con,
        """SELECT pid, day_of(day) AS day, CAST(sum(sessions) AS DOUBLE) AS sessions,
                  CAST(sum(crashed) AS DOUBLE) AS crashed
           FROM sentry_sessions JOIN _products USING (product) GROUP BY ALL""",
    )
    sessions, crashed = (
        grid.window_sum(daily["pid"], daily["day"], daily[column], 30)
        for column in ("sessions", "crashed")
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(sessions > 0, 100.0 * (1 - crashed / sessions), np.nan)
    return {"crash_free_sessions": rate}
