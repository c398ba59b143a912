"""Operations metrics from Jira tickets: SLA compliance, time to resolve high
priority, open high-priority tickets and first response, as of each day."""

from __future__ import annotations

import duckdb
import numpy as np

from reliability.day_grid import OPEN, DayGrid, ratio_or_best
from reliability.metric_sql import fetch_columns, products_with

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


def jira(con: duckdb.DuckDBPyConnection, grid: DayGrid) -> dict[str, np.ndarray]:
    """SLA compliance, open high-priority tickets, and the two medians in hours."""
    tickets = fetch_columns(
        con,
        f"""
        WITH due AS (
            SELECT *, {PRIORITY_LEVEL_SQL} AS level, {DUE_AT_SQL} AS due_at
            FROM jira_tickets JOIN _products USING (product)
        )
        SELECT pid, level IN ('Highest', 'High') AS is_high,
               coalesce(sla_met, resolved IS NOT NULL AND resolved <= due_at) AS met,
               resolved IS NOT NULL AS is_resolved,
               day_of(created) AS created, day_of(due_at) AS due,
               coalesce(day_of(resolved), {OPEN}) AS resolved,
               coalesce(day_of(first_response), {OPEN}) AS responded,
               date_diff('second', created, resolved) / 3600.0 AS resolve_hours,
               date_diff('second', created, first_response) / 3600.0 AS response_hours
        FROM due
        """,
    )
    pid, due, resolved = tickets["pid"], tickets["due"], tickets["resolved"]
    is_resolved, is_high = tickets["is_resolved"], tickets["is_high"]
    counts = {}
    for name, chosen in (("due", np.ones_like(is_high)), ("met", tickets["met"])):
        # A ticket counts for SLA compliance for 30 days after it fell due and
        # for 30 days after it was resolved; where the two overlap it counts once.
        done = chosen & is_resolved
        counts[name] = (
            grid.running_count(pid[chosen], due[chosen], due[chosen] + 29)
            + grid.running_count(pid[done], resolved[done], resolved[done] + 29)
            - grid.running_count(
                pid[done],
                np.maximum(due, resolved)[done],
                np.minimum(due, resolved)[done] + 29,
            )
        )
    open_high = grid.running_count(
        pid[is_high], tickets["created"][is_high], resolved[is_high] - 1
    )
    with_data = products_with(con, "jira", "jira_tickets")
    values = {
        "sla_compliance_30d": grid.only(
            ratio_or_best(counts["met"], counts["due"]), with_data
        ),
        "open_high_priority": grid.only(open_high, with_data),
    }
    # Each median counts a ticket for the 30 days after its resolution (or, for
    # first response, from the response until 30 days after creation).
    fixed = is_high & is_resolved
    values["mttr_hours"] = grid.median(
        pid[fixed],
        resolved[fixed],
        resolved[fixed] + 29,
        tickets["resolve_hours"][fixed],
    )
    values["first_response_hours"] = grid.median(
        pid,
        np.maximum(tickets["created"], tickets["responded"]),
        tickets["created"] + 29,
        tickets["response_hours"],
    )
    return values
