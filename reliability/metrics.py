"""Raw rows to metric values, for every product and each day of a trailing window.

Every metric of scoring.md is computed as of the end of each day ``d`` in DuckDB
SQL. Most are counts of things whose membership is an interval of days (an issue
is open from its first day to the day before its resolution; a ticket counts for
the 30 days after it was resolved), so they are computed with difference arrays:
+1 on the interval's first day, -1 on the day after its last, and a running sum
per product. That is one pass over the rows, with no product x day x row join.
Medians cannot be summed that way; their rows are expanded over the days they
count for, clipped to the window asked for (as integer day offsets, which
expand about a fifth faster than a series of dates).

Missing is NULL. A ratio whose denominator is 0 is its best case, but only for a
product whose source has delivered data at least once.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

import duckdb
import pandas as pd

from reliability.scoring import METRIC_NAMES
from reliability.store import fetch_value

logger = logging.getLogger(__name__)

TREND_DAYS = 90
# Metrics look back up to 90 days, so a 90-day trend needs 180 days of rows.
LOOKBACK_DAYS = 90

PRIORITY_LEVEL_SQL = """
    CASE
        WHEN lower(priority) IN ('highest', 'blocker') THEN 'Highest'
        WHEN lower(priority) IN ('high', 'critical') THEN 'High'
        WHEN lower(priority) IN ('low', 'lowest', 'minor', 'trivial') THEN 'Low'
        ELSE 'Medium'
    END"""
# Default resolution targets per priority level, in hours (scoring.md).
RESOLUTION_TARGET_HOURS = {"Highest": 24, "High": 72, "Medium": 240, "Low": 720}


def compute_metrics(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, days: int = TREND_DAYS
) -> pd.DataFrame:
    """Return one row per product and day with every metric of scoring.md.

    Days run from ``as_of - (days - 1)`` to ``as_of``. Columns: ``product``,
    ``day`` and one per metric name; ``quality_gate`` holds a status string.
    """
    # TODO(#7): 2.5 s at 2,000 products against a 1 s target; the seven queries
    # below cost 0.13 to 0.54 s each and threads gain nothing on two cores.
    started = time.perf_counter()
    first = as_of - dt.timedelta(days=days - 1)
    _create_grid(con, first, as_of)

    frame = con.execute("SELECT product, day FROM _grid ORDER BY product, day").df()
    for part in (
        _sentry_counts(con, first, as_of),
        _sentry_mttr(con, first, as_of),
        _crash_free(con),
        _sonar(con, first, as_of),
        _jira_counts(con, first, as_of),
        _jira_medians(con, first, as_of),
        _azure(con),
    ):
        frame = frame.merge(part, on=["product", "day"], how="left")

    for name in METRIC_NAMES:
        if name not in frame:
            frame[name] = None
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    frame = frame[["product", "day", *METRIC_NAMES]]
    logger.info(
        "Computed metrics for %d products x %d days in %.2fs",
        frame["product"].nunique(),
        days,
        time.perf_counter() - started,
    )
    return frame


def refresh_metric_daily(
    con: duckdb.DuckDBPyConnection, as_of: dt.date | None = None
) -> pd.DataFrame:
    """Recompute the stored daily metrics that the app reads, as of ``as_of``."""
    as_of = as_of or dt.datetime.now(dt.UTC).date()
    frame = compute_metrics(con, as_of)
    con.register("_metric_daily", frame)
    try:
        con.execute(
            "CREATE OR REPLACE TABLE metric_daily AS SELECT * FROM _metric_daily"
        )
    finally:
        con.unregister("_metric_daily")
    con.execute("INSERT OR REPLACE INTO meta VALUES ('as_of', ?)", [as_of.isoformat()])
    return frame


def _create_grid(con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date) -> None:
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


def _running_counts(
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


def _interval_deltas(
    name: str, source: str, start: str, end: str, sign: int = 1
) -> str:
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


# -- runtime (Sentry) -------------------------------------------------------------


def _create_issue_states(con: duckdb.DuckDBPyConnection) -> None:
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


_SENTRY_COUNTS = (
    "open_critical_issues",
    "new_issues_30d",
    "_first_seen_90d",
    "_resolved_of_90d",
)
_JIRA_COUNTS = ("_due", "_met", "open_high_priority")


def _sentry_counts(
    con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date
) -> pd.DataFrame:
    _create_issue_states(con)
    issues = "(SELECT product, CAST(first_seen AS DATE) AS f FROM sentry_issues)"
    critical_open = (
        "(SELECT * FROM _issue_states WHERE state = 'open' "
        "AND lower(level) IN ('fatal', 'error'))"
    )
    resolved = "(SELECT * FROM _issue_states WHERE state = 'resolved')"
    deltas = " UNION ALL ".join(
        [
            _interval_deltas(
                "open_critical_issues", critical_open, "from_day", "to_day"
            ),
            _interval_deltas(
                "new_issues_30d", issues, "f", "CAST(f + INTERVAL 29 DAY AS DATE)"
            ),
            _interval_deltas(
                "_first_seen_90d", issues, "f", "CAST(f + INTERVAL 89 DAY AS DATE)"
            ),
            _interval_deltas(
                "_resolved_of_90d",
                resolved,
                "from_day",
                "least(coalesce(to_day, DATE '9999-12-31'), "
                "CAST(first_day + INTERVAL 89 DAY AS DATE))",
            ),
        ]
    )
    wide = _running_counts(con, deltas, first, _SENTRY_COUNTS)
    if wide.empty:
        return wide

    has_data = set(_products_with(con, "sentry", "sentry_issues")["product"])
    wide = wide[wide["product"].isin(has_data)].copy()
    seen = wide.get("_first_seen_90d", 0)
    resolved_count = wide.get("_resolved_of_90d", 0)
    wide["resolution_rate_90d"] = (resolved_count / seen).where(seen > 0, 1.0)
    for name in ("open_critical_issues", "new_issues_30d"):
        if name not in wide:
            wide[name] = 0.0
    return wide[
        [
            "product",
            "day",
            "open_critical_issues",
            "new_issues_30d",
            "resolution_rate_90d",
        ]
    ]


def _sentry_mttr(
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


def _crash_free(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
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


# -- quality (SonarCloud) -----------------------------------------------------------


def _sonar(
    con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date
) -> pd.DataFrame:
    """The newest known value of each measure per project, pooled per product.

    A history point without a value (the metric was not computed in that
    analysis) does not hide an older value: we take the newest point that has one.
    """
    # Each measure's newest point per analysis day (points before the window fold
    # into its first day), carried forward over one row per project and day: at
    # 2,000 products an as-of join per measure and day took seconds (#7).
    return con.execute(
        f"""
        WITH known AS (
            SELECT product, project_key, metric, analysed_at, value, text_value
            FROM sonar_measures
            WHERE metric IN ({", ".join(f"'{metric}'" for metric, _ in _SONAR_COLUMNS)})
              AND (value IS NOT NULL
                   OR (text_value IS NOT NULL AND text_value <> 'NONE'))
        ),
        points AS (
            SELECT product, project_key, metric,
                   greatest(CAST(analysed_at AS DATE), CAST($first AS DATE)) AS day,
                   arg_max({{'value': value, 'text_value': text_value}}, analysed_at)
                       AS point
            FROM known WHERE CAST(analysed_at AS DATE) <= CAST($last AS DATE)
            GROUP BY ALL
        ),
        daily AS (
            SELECT product, project_key, day,
                   {
            ", ".join(
                f"any_value(point) FILTER (metric = '{metric}') AS {column}"
                for metric, column in _SONAR_COLUMNS
            )
        }
            FROM points GROUP BY ALL
        ),
        projects AS (SELECT DISTINCT product, project_key FROM known),
        carried AS (
            SELECT g.product, g.day, k.project_key,
                   {
            ", ".join(
                f"last_value(d.{column} IGNORE NULLS) OVER w AS {column}"
                for _, column in _SONAR_COLUMNS
            )
        }
            FROM _grid g JOIN projects k USING (product)
            LEFT JOIN daily d
              ON d.product = g.product AND d.project_key = k.project_key
             AND d.day = g.day
            WINDOW w AS (PARTITION BY g.product, k.project_key ORDER BY g.day
                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
        ),
        per_project AS (
            SELECT product, day, project_key, gate.text_value AS gate,
                   {
            ", ".join(
                f"{column}.value AS {column}"
                for _, column in _SONAR_COLUMNS
                if column != "gate"
            )
        }
            FROM carried
        )
        SELECT product, day,
               CASE WHEN bool_or(upper(gate) = 'ERROR') THEN 'ERROR'
                    WHEN bool_or(upper(gate) = 'WARN') THEN 'WARN'
                    WHEN bool_or(upper(gate) = 'OK') THEN 'OK' END AS quality_gate,
               max(reliability) AS reliability_rating,
               max(security) AS security_rating,
               max(maintainability) AS maintainability_rating,
               """
        + ",\n".join(
            _loc_weighted(column, name)
            for column, name in (
                ("coverage", "coverage"),
                ("dup", "duplicated_lines_density"),
                ("hotspots", "security_hotspots_reviewed"),
            )
        )
        + "\nFROM per_project GROUP BY ALL",
        {"first": first, "last": last},
    ).df()


# Sonar measure keys and the column each becomes per project.
_SONAR_COLUMNS = (
    ("alert_status", "gate"),
    ("reliability_rating", "reliability"),
    ("security_rating", "security"),
    ("sqale_rating", "maintainability"),
    ("coverage", "coverage"),
    ("duplicated_lines_density", "dup"),
    ("security_hotspots_reviewed", "hotspots"),
    ("ncloc", "ncloc"),
)


def _loc_weighted(column: str, name: str) -> str:
    # Weighted by lines of code when every project reporting the measure also
    # reports ncloc; equal weights otherwise (scoring.md).
    return f"""
        CASE WHEN count({column}) = 0 THEN NULL
             WHEN count(ncloc) FILTER ({column} IS NOT NULL) = count({column})
                  AND sum(ncloc) FILTER ({column} IS NOT NULL) > 0
             THEN sum({column} * ncloc) / sum(ncloc) FILTER ({column} IS NOT NULL)
             ELSE avg({column}) END AS {name}"""


# -- operations (Jira) ------------------------------------------------------------


def _create_tickets(con: duckdb.DuckDBPyConnection) -> None:
    targets = " ".join(
        f"WHEN '{level}' THEN {hours}"
        for level, hours in RESOLUTION_TARGET_HOURS.items()
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _tickets AS
        WITH leveled AS (
            SELECT *, {PRIORITY_LEVEL_SQL} AS level FROM jira_tickets
        ),
        due AS (
            SELECT *, coalesce(sla_due, created + to_hours(CASE level {targets} END))
                   AS due_at
            FROM leveled
        )
        SELECT product, level, level IN ('Highest', 'High') AS is_high,
               created, resolved, first_response,
               CAST(created AS DATE) AS created_day,
               CAST(resolved AS DATE) AS resolved_day,
               CAST(due_at AS DATE) AS due_day,
               coalesce(sla_met, resolved IS NOT NULL AND resolved <= due_at) AS met
        FROM due
        """
    )


def _jira_counts(
    con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date
) -> pd.DataFrame:
    _create_tickets(con)
    # A ticket counts for SLA compliance for 30 days after it fell due and for 30
    # days after it was resolved; where the two stretches overlap it counts once.
    both = """(SELECT product, met, greatest(due_day, resolved_day) AS lo,
                      CAST(least(due_day, resolved_day) + INTERVAL 29 DAY AS DATE) AS hi
               FROM _tickets WHERE resolved_day IS NOT NULL)"""
    plus_30 = "CAST({} + INTERVAL 29 DAY AS DATE)"
    parts = []
    for prefix, condition in (("_due", "TRUE"), ("_met", "met")):
        src = f"(SELECT * FROM _tickets WHERE {condition})"
        resolved_src = (
            f"(SELECT * FROM _tickets WHERE {condition} AND resolved_day IS NOT NULL)"
        )
        overlap = f"(SELECT * FROM {both} WHERE {condition})"
        parts += [
            _interval_deltas(prefix, src, "due_day", plus_30.format("due_day")),
            _interval_deltas(
                prefix, resolved_src, "resolved_day", plus_30.format("resolved_day")
            ),
            _interval_deltas(prefix, overlap, "lo", "hi", sign=-1),
        ]
    open_high = "(SELECT * FROM _tickets WHERE is_high)"
    parts.append(
        _interval_deltas(
            "open_high_priority",
            open_high,
            "created_day",
            "CAST(resolved_day - INTERVAL 1 DAY AS DATE)",
        )
    )
    wide = _running_counts(con, " UNION ALL ".join(parts), first, _JIRA_COUNTS)
    if wide.empty:
        return wide

    has_data = set(_products_with(con, "jira", "jira_tickets")["product"])
    wide = wide[wide["product"].isin(has_data)].copy()
    due = wide.get("_due", 0)
    met = wide.get("_met", 0)
    wide["sla_compliance_30d"] = (met / due).where(due > 0, 1.0)
    if "open_high_priority" not in wide:
        wide["open_high_priority"] = 0.0
    return wide[["product", "day", "sla_compliance_30d", "open_high_priority"]]


def _jira_medians(
    con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date
) -> pd.DataFrame:
    return con.execute(
        """
        WITH resolve_spans AS (
            SELECT product, 'mttr_hours' AS name,
                   date_diff('second', created, resolved) / 3600.0 AS hours,
                   resolved_day AS lo,
                   CAST(resolved_day + INTERVAL 29 DAY AS DATE) AS hi
            FROM _tickets WHERE is_high AND resolved IS NOT NULL
        ),
        response_spans AS (
            SELECT product, 'first_response_hours',
                   date_diff('second', created, first_response) / 3600.0,
                   greatest(created_day, CAST(first_response AS DATE)),
                   CAST(created_day + INTERVAL 29 DAY AS DATE)
            FROM _tickets WHERE first_response IS NOT NULL
        ),
        spans AS (
            SELECT product, name, hours,
                   greatest(lo, CAST(? AS DATE)) AS lo, least(hi, CAST(? AS DATE)) AS hi
            FROM (SELECT * FROM resolve_spans UNION ALL SELECT * FROM response_spans)
        ),
        expanded AS (
            SELECT product, name, hours,
                   unnest(range(date_diff('day', CAST(? AS DATE), lo),
                                date_diff('day', CAST(? AS DATE), hi) + 1)) AS day_offset
            FROM spans WHERE hi >= lo
        )
        SELECT product, CAST(? AS DATE) + CAST(day_offset AS INTEGER) AS day,
               median(hours) FILTER (name = 'mttr_hours') AS mttr_hours,
               median(hours) FILTER (name = 'first_response_hours')
                   AS first_response_hours
        FROM expanded GROUP BY product, day_offset
        """,
        [first, last, first, first, first],
    ).df()


# -- system health (Azure) ----------------------------------------------------------


def _azure(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
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


def _products_with(
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
