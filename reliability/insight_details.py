"""Facts from the raw rows behind a product's metrics, for the evidence text.

A few read-only queries of the store: bugs behind a rating, tickets past their
SLA, the age of the oldest open issue.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import duckdb

from reliability.metric_sql import day_end
from reliability.metrics_operations import DUE_AT_SQL, PRIORITY_LEVEL_SQL
from reliability.metrics_quality import KNOWN_POINT_SQL
from reliability.metrics_runtime import ISSUE_STATES_SQL
from reliability.store import Store, StoreError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Details:
    """Facts from the raw rows behind a product's metrics, as of one day."""

    bugs: int | None = None
    vulnerabilities: int | None = None
    code_smells: int | None = None
    failing_gate_projects: tuple[str, ...] = ()
    past_sla: int | None = None
    past_sla_high: int | None = None
    oldest_past_sla_high_days: float | None = None
    oldest_open_high_days: float | None = None
    oldest_open_critical_days: float | None = None
    is_jsm_without_sla: bool = False


def load_details(store: Store, as_of: dt.date) -> dict[str, Details]:
    """Read the facts behind the metrics as of the end of ``as_of``, per product.

    Read-only; an unreadable store gives no details (evidence then falls back to
    the metric values alone), with a warning.
    """
    end = day_end(as_of)
    try:
        with store.reading() as con:
            sonar = _sonar_facts(con, end)
            jira = _jira_facts(con, end)
            sentry = _oldest_open_critical(con, as_of, end)
    except (StoreError, duckdb.Error) as exc:
        logger.warning("Could not read insight details from %s: %s", store.path, exc)
        return {}

    facts: dict[str, dict[str, object]] = {}
    for product, oldest in sentry:
        facts.setdefault(product, {})["oldest_open_critical_days"] = oldest
    for part in (sonar, jira):
        for product, values in part.items():
            facts.setdefault(product, {}).update(values)
    return {product: Details(**values) for product, values in facts.items()}  # type: ignore[arg-type]


def _oldest_open_critical(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, end: dt.datetime
) -> list[tuple[str, float]]:
    # Open as of the day by the same status history the open_critical_issues
    # metric counts, so the evidence names the issues the metric scores.
    return con.execute(
        f"""WITH {ISSUE_STATES_SQL}
           SELECT product, date_diff('second', min(first_seen), $end) / 86400.0
           FROM issue_states
           WHERE state = 'open' AND lower(level) IN ('fatal', 'error')
             AND from_day <= $day AND (to_day IS NULL OR to_day >= $day)
           GROUP BY product""",
        {"end": end, "day": as_of},
    ).fetchall()


def _sonar_facts(
    con: duckdb.DuckDBPyConnection, end: dt.datetime
) -> dict[str, dict[str, object]]:
    # The newest known point, as the quality metrics read it: a gate of NONE
    # after an ERROR still leaves the project failing.
    rows = con.execute(
        f"""SELECT product, project_key, metric,
                   arg_max_null(value, analysed_at), arg_max_null(text_value, analysed_at)
            FROM sonar_measures
            WHERE analysed_at < ? AND {KNOWN_POINT_SQL}
              AND metric IN ('bugs', 'vulnerabilities', 'code_smells', 'alert_status')
            GROUP BY ALL ORDER BY product, project_key""",
        [end],
    ).fetchall()
    facts: dict[str, dict[str, object]] = {}
    names = {
        "bugs": "bugs",
        "vulnerabilities": "vulnerabilities",
        "code_smells": "code_smells",
    }
    for product, project_key, metric, value, text in rows:
        own = facts.setdefault(product, {"failing_gate_projects": ()})
        if metric == "alert_status" and str(text).upper() == "ERROR":
            own["failing_gate_projects"] = (*own["failing_gate_projects"], project_key)  # type: ignore[misc]
        elif metric in names and value is not None:
            own[names[metric]] = int(own.get(names[metric]) or 0) + int(value)  # type: ignore[call-overload]
    return facts


def _jira_facts(
    con: duckdb.DuckDBPyConnection, end: dt.datetime
) -> dict[str, dict[str, object]]:
    rows = con.execute(
        f"""WITH t AS (
               SELECT j.product, j.created, j.sla_due, p.jira_sla,
                      j.resolved IS NULL OR j.resolved >= $end AS is_open,
                      {PRIORITY_LEVEL_SQL} IN ('Highest', 'High') AS is_high,
                      {DUE_AT_SQL} AS due_at
               FROM jira_tickets j LEFT JOIN products p ON p.slug = j.product
               WHERE j.created < $end)
           SELECT product,
                  count(*) FILTER (WHERE is_open AND due_at < $end),
                  count(*) FILTER (WHERE is_open AND due_at < $end AND is_high),
                  date_diff('second', min(created) FILTER (WHERE is_open AND due_at < $end AND is_high), $end) / 86400.0,
                  date_diff('second', min(created) FILTER (WHERE is_open AND is_high), $end) / 86400.0,
                  any_value(jira_sla) = 'jsm' AND count(sla_due) = 0
           FROM t GROUP BY product""",
        {"end": end},
    ).fetchall()
    return {
        product: {
            "past_sla": past,
            "past_sla_high": past_high,
            "oldest_past_sla_high_days": oldest_past,
            "oldest_open_high_days": oldest_high,
            "is_jsm_without_sla": bool(jsm),
        }
        for product, past, past_high, oldest_past, oldest_high, jsm in rows
    }
