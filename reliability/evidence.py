"""What lies behind one product's score: the raw rows a team acts on.

Read-only queries on the store, by source: the open Sentry issues that weigh
most, Jira SLA breaches and old high-priority tickets, the Sonar gate and
measures, and availability against the SLO. Every query takes the day the scores are as of, so the evidence matches
the score shown even when the file holds later rows. The metric-by-metric
``breakdown`` lives in ``reliability.score_breakdown`` and is re-exported here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reliability import slo
from reliability.metric_sql import day_end
from reliability.metrics_operations import DUE_AT_SQL, PRIORITY_LEVEL_SQL
from reliability.metrics_quality import KNOWN_POINT_SQL

# Re-exported: the product page and its tests read the breakdown from here.
from reliability.score_breakdown import MISSING_HINTS as MISSING_HINTS
from reliability.score_breakdown import SOURCE_HINTS as SOURCE_HINTS
from reliability.score_breakdown import breakdown as breakdown
from reliability.store import Store

# Sentry levels in the order an issue weighs: fatal and error count against
# the score (open_critical_issues), warning and info do not.
LEVEL_WEIGHTS = {"fatal": 4, "error": 3, "warning": 2, "info": 1}
SONAR_MEASURES = (
    "bugs",
    "vulnerabilities",
    "code_smells",
    "coverage",
    "duplicated_lines_density",
    "security_hotspots_reviewed",
    "reliability_rating",
    "security_rating",
    "sqale_rating",
    "ncloc",
)


# -- Sentry -----------------------------------------------------------------------


def open_issues(
    store: Store, product: str, as_of: dt.date, limit: int = 10
) -> pd.DataFrame:
    """The open Sentry issues that weigh most as of ``as_of``.

    Fatal and error issues first (they count against the score), then by users
    affected and events. Columns: ``short_id``, ``title``, ``level``, ``project``,
    ``event_count``, ``user_count``, ``first_seen``, ``last_seen``, ``permalink``.
    """
    end = day_end(as_of)
    levels = " ".join(f"WHEN '{k}' THEN {v}" for k, v in LEVEL_WEIGHTS.items())
    return store.query(
        f"""
        WITH changes AS (
            SELECT issue_id, changed_at AS ts,
                   CASE WHEN kind = 'resolved' THEN 'resolved' ELSE 'open' END AS state
            FROM sentry_issue_changes WHERE product = $product
            UNION SELECT issue_id, resolved_at, 'resolved' FROM sentry_issues
            WHERE product = $product AND resolved_at IS NOT NULL
            UNION SELECT issue_id, regressed_at, 'open' FROM sentry_issues
            WHERE product = $product AND regressed_at IS NOT NULL
        ),
        latest AS (
            SELECT issue_id, arg_max(state, ts) AS state FROM changes
            WHERE ts < $end GROUP BY issue_id
        )
        SELECT i.short_id, i.title, lower(i.level) AS level, i.project,
               i.event_count, i.user_count, i.first_seen, i.last_seen, i.permalink
        FROM sentry_issues i LEFT JOIN latest l USING (issue_id)
        WHERE i.product = $product AND i.first_seen < $end
          AND coalesce(l.state, 'open') = 'open'
        ORDER BY CASE lower(i.level) {levels} ELSE 0 END DESC,
                 i.user_count DESC NULLS LAST, i.event_count DESC NULLS LAST
        LIMIT $limit
        """,
        {"product": product, "end": end, "limit": limit},  # type: ignore[arg-type]
    )


# -- Jira -------------------------------------------------------------------------


def _tickets_sql() -> str:
    return f"""
        SELECT key, summary, {PRIORITY_LEVEL_SQL} AS priority, status, created,
               CASE WHEN resolved < $end THEN resolved END AS resolved,
               {DUE_AT_SQL} AS due, sla_met, url
        FROM jira_tickets
        WHERE product = $product AND created < $end"""


def sla_breaches(
    store: Store, product: str, as_of: dt.date, days: int = 30, limit: int = 10
) -> pd.DataFrame:
    """Tickets that broke their SLA, due or resolved in the last ``days``.

    A ticket still open past its due time has breached it. Newest due first.
    Columns: ``key``, ``summary``, ``priority``, ``created``, ``due``,
    ``resolved``, ``hours_late``, ``url``.
    """
    end = day_end(as_of)
    start = end - dt.timedelta(days=days)
    return store.query(
        f"""
        WITH t AS ({_tickets_sql()})
        SELECT key, summary, priority, created, due, resolved,
               date_diff('second', due, coalesce(resolved, $end)) / 3600.0 AS hours_late,
               url
        FROM t
        WHERE coalesce(NOT sla_met, coalesce(resolved, $end) > due)
          AND due < $end
          AND ((due >= $start) OR (resolved >= $start))
        ORDER BY due DESC
        LIMIT $limit
        """,
        {"product": product, "end": end, "start": start, "limit": limit},  # type: ignore[arg-type]
    )


def oldest_high_priority(
    store: Store, product: str, as_of: dt.date, limit: int = 10
) -> pd.DataFrame:
    """Open Highest and High tickets as of ``as_of``, oldest first.

    Columns: ``key``, ``summary``, ``priority``, ``status``, ``created``,
    ``age_days``, ``due``, ``url``.
    """
    end = day_end(as_of)
    return store.query(
        f"""
        WITH t AS ({_tickets_sql()})
        SELECT key, summary, priority, status, created,
               date_diff('second', created, $end) / 86400.0 AS age_days, due, url
        FROM t
        WHERE priority IN ('Highest', 'High') AND resolved IS NULL
        ORDER BY created
        LIMIT $limit
        """,
        {"product": product, "end": end, "limit": limit},  # type: ignore[arg-type]
    )


# -- SonarCloud -------------------------------------------------------------------


def sonar_projects(store: Store, product: str, as_of: dt.date) -> pd.DataFrame:
    """The newest gate and measures per Sonar project as of ``as_of``.

    One row per ``project_key`` with ``analysed_at`` (the newest analysis),
    ``gate`` (OK, WARN, ERROR or None) and one column per ``SONAR_MEASURES``.
    """
    frame = store.query(
        f"""
        SELECT project_key, metric, arg_max(coalesce(text_value, CAST(value AS VARCHAR)),
                                            analysed_at) AS latest,
               max(analysed_at) AS analysed_at
        FROM sonar_measures
        WHERE product = $product AND analysed_at < $end AND {KNOWN_POINT_SQL}
        GROUP BY ALL
        """,
        {"product": product, "end": day_end(as_of)},  # type: ignore[arg-type]
    )
    columns = ["project_key", "analysed_at", "gate", *SONAR_MEASURES]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    wide = frame.pivot(index="project_key", columns="metric", values="latest")
    result = pd.DataFrame(index=wide.index)
    result["analysed_at"] = frame.groupby("project_key")["analysed_at"].max()
    result["gate"] = wide["alert_status"] if "alert_status" in wide else None
    for measure in SONAR_MEASURES:
        result[measure] = (
            pd.to_numeric(wide.get(measure), errors="coerce")
            if measure in wide
            else np.nan
        )
    return result.reset_index()[columns]


# -- Azure ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Availability:
    """Availability against the SLO as of one day, and how it got there.

    ``daily`` has one row per day: ``day``, ``total``, ``failed``,
    ``availability`` (that day, 0..1), ``availability_30d`` and
    ``error_budget_remaining`` (0..1, over the trailing 30 days). ``burn`` holds
    the burn rates of the newest hours; None without hourly data.
    """

    slo_percent: float
    availability_30d: float | None
    budget_remaining: float | None
    budget_minutes: float
    minutes_left: float | None
    daily: pd.DataFrame
    burn: slo.BurnStatus | None

    @property
    def has_data(self) -> bool:
        return self.availability_30d is not None


def availability(
    store: Store, product: str, as_of: dt.date, slo_percent: float, days: int = 90
) -> Availability:
    """Daily availability and the error budget of ``product`` up to ``as_of``."""
    end = day_end(as_of)
    first = as_of - dt.timedelta(days=days - 1 + slo.SLO_WINDOW_DAYS)
    raw = store.query(
        """
        SELECT product, day, sum(total) AS total, sum(failed) AS failed,
               sum(p95_ms * total) / nullif(sum(total), 0) AS p95_ms
        FROM azure_requests WHERE product = $product AND day >= $first AND day < $end
        GROUP BY ALL ORDER BY day
        """,
        {"product": product, "first": first, "end": end.date()},  # type: ignore[arg-type]
    )
    daily = _availability_daily(raw, as_of, slo_percent, days)
    last = daily.iloc[-1] if not daily.empty else None
    availability_30d: float | None = None
    remaining: float | None = None
    if last is not None and last["day"] == pd.Timestamp(as_of):
        availability_30d = float(last["availability_30d"])
        remaining = float(last["error_budget_remaining"])
    return Availability(
        slo_percent=slo_percent,
        availability_30d=availability_30d,
        budget_remaining=remaining,
        budget_minutes=slo.error_budget_minutes(slo_percent),
        minutes_left=(
            None
            if availability_30d is None
            else slo.downtime_minutes_left(availability_30d, slo_percent)
        ),
        daily=daily,
        burn=_burn(store, product, end, slo_percent),
    )


def _availability_daily(
    raw: pd.DataFrame, as_of: dt.date, slo_percent: float, days: int
) -> pd.DataFrame:
    columns = [
        "day",
        "total",
        "failed",
        "availability",
        "availability_30d",
        "error_budget_remaining",
    ]
    if raw.empty:
        return pd.DataFrame(columns=columns)
    health = slo.system_health_daily(raw, slo_percent, end=pd.Timestamp(as_of))
    raw = raw.assign(day=pd.to_datetime(raw["day"]))
    frame = health.merge(raw[["day", "total", "failed"]], on="day", how="left")
    frame["availability"] = 1.0 - frame["failed"] / frame["total"].where(
        frame["total"] > 0
    )
    first_shown = pd.Timestamp(as_of - dt.timedelta(days=days - 1))
    return frame[frame["day"] >= first_shown].reset_index(drop=True)[columns]


def _burn(
    store: Store, product: str, end: dt.datetime, slo_percent: float
) -> slo.BurnStatus | None:
    hourly = store.query(
        """
        SELECT hour, sum(total) AS total, sum(failed) AS failed
        FROM azure_requests_hourly
        WHERE product = $product AND hour < $end AND hour >= $end - INTERVAL 4 DAY
        GROUP BY ALL ORDER BY hour
        """,
        {"product": product, "end": end},  # type: ignore[arg-type]
    )
    if hourly.empty:
        return None
    return slo.hourly_burn_status(hourly, hourly["hour"].max(), slo_percent)
