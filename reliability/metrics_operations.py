"""Operations metrics from Jira tickets: SLA compliance, time to resolve high
priority, open high-priority tickets and first response, as of each day."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from reliability.metric_sql import interval_deltas, ratio_or_best, source_counts

PRIORITY_LEVEL_SQL = """
    CASE
        WHEN lower(priority) IN ('highest', 'blocker') THEN 'Highest'
        WHEN lower(priority) IN ('high', 'critical') THEN 'High'
        WHEN lower(priority) IN ('low', 'lowest', 'minor', 'trivial') THEN 'Low'
        ELSE 'Medium'
    END"""
# Default resolution targets per priority level, in hours (scoring.md).
RESOLUTION_TARGET_HOURS = {"Highest": 24, "High": 72, "Medium": 240, "Low": 720}
# When a ticket falls due: its JSM SLA goal, else created + its level's target.
# Reads the columns of jira_tickets; metrics, evidence and insights share it.
DUE_AT_SQL = (
    "coalesce(sla_due, created + to_hours(CASE "
    + PRIORITY_LEVEL_SQL
    + " "
    + " ".join(f"WHEN '{lvl}' THEN {h}" for lvl, h in RESOLUTION_TARGET_HOURS.items())
    + " END))"
)

JIRA_COUNTS = ("_due", "_met", "open_high_priority")


def _create_tickets(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _tickets AS
        WITH due AS (
            SELECT *, {PRIORITY_LEVEL_SQL} AS level, {DUE_AT_SQL} AS due_at
            FROM jira_tickets
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


def jira_counts(
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
            interval_deltas(prefix, src, "due_day", plus_30.format("due_day")),
            interval_deltas(
                prefix, resolved_src, "resolved_day", plus_30.format("resolved_day")
            ),
            interval_deltas(prefix, overlap, "lo", "hi", sign=-1),
        ]
    open_high = "(SELECT * FROM _tickets WHERE is_high)"
    parts.append(
        interval_deltas(
            "open_high_priority",
            open_high,
            "created_day",
            "CAST(resolved_day - INTERVAL 1 DAY AS DATE)",
        )
    )
    wide = source_counts(
        con,
        " UNION ALL ".join(parts),
        first,
        JIRA_COUNTS,
        source="jira",
        table="jira_tickets",
    )
    if wide.empty:
        return wide
    wide["sla_compliance_30d"] = ratio_or_best(wide["_met"], wide["_due"])
    return wide[["product", "day", "sla_compliance_30d", "open_high_priority"]]


def jira_medians(
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
