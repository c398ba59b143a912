"""One pull per source: fetch a product's rows and say which watermark to keep.

Each pull has the ``PullFunction`` shape that ``sync.PULLERS`` registers. It
only fetches and shapes rows; ``sync`` writes them, so a pull that raises
leaves the store untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import duckdb
import pandas as pd

from reliability.config import Product
from reliability.sources.azure import DAILY_DAYS as AZURE_DAILY_DAYS
from reliability.sources.azure import AzureClient, fetch_daily, fetch_hourly
from reliability.sources.jira import JiraClient, fetch_tickets
from reliability.sources.sentry import WINDOW_DAYS as SENTRY_WINDOW_DAYS
from reliability.sources.sentry import KnownIssue, SentryClient, fetch_issues
from reliability.sources.sentry_sessions import fetch_sessions
from reliability.sources.sonar import SonarClient, fetch_measures


@dataclass(frozen=True, kw_only=True)
class Pull:
    """What a pull fetched: store rows by table, and the watermark to keep."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    watermark: datetime | None = None


class SourceClient(Protocol):
    def ping(self) -> str: ...

    def close(self) -> None: ...


PullFunction = Callable[
    [Any, Product, duckdb.DuckDBPyConnection, "datetime | None", bool, datetime], Pull
]


@dataclass(frozen=True, kw_only=True)
class Puller:
    """How to reach one source and pull one product's rows from it."""

    connect: Callable[..., SourceClient]
    pull: PullFunction


def pull_sentry(
    client: SentryClient,
    product: Product,
    con: duckdb.DuckDBPyConnection,
    since: datetime | None,
    full: bool,
    now: datetime,
) -> Pull:
    """Pull issues, their status changes and daily sessions of a product."""
    known = _known_sentry_issues(con, product.slug)
    issues, changes = fetch_issues(
        client, product.slug, product.sentry_projects, known=known, now=now
    )
    days = SENTRY_WINDOW_DAYS
    if since is not None and not full:
        # Re-read two days: today's and yesterday's counts were still growing.
        days = min(SENTRY_WINDOW_DAYS, max(2, (now - since).days + 2))
    sessions = fetch_sessions(client, product.slug, product.sentry_projects, days=days)
    tables = {
        "sentry_issues": issues,
        "sentry_issue_changes": changes,
        "sentry_sessions": sessions,
    }
    return Pull(tables=tables, watermark=now)


def pull_sonar(
    client: SonarClient,
    product: Product,
    con: duckdb.DuckDBPyConnection,
    since: datetime | None,
    full: bool,
    now: datetime,
) -> Pull:
    """Pull the measure history of a product's Sonar projects."""
    measures = fetch_measures(
        client,
        product.slug,
        product.sonar_projects,
        since=None if full else since,
        now=now,
    )
    return Pull(tables={"sonar_measures": measures}, watermark=now)


def pull_jira(
    client: JiraClient,
    product: Product,
    con: duckdb.DuckDBPyConnection,
    since: datetime | None,
    full: bool,
    now: datetime,
) -> Pull:
    """Pull the tickets a product's JQL selects, updated since the watermark."""
    tickets = fetch_tickets(
        client,
        product.slug,
        product.jira_jql or "",
        sla_mode=product.jira_sla,
        since=since,
        full=full,
    )
    # The newest `updated` seen, not our clock, so Jira's clock decides overlap.
    newest = tickets["updated"].max() if not tickets.empty else pd.NaT
    watermark = newest.to_pydatetime() if pd.notna(newest) else (since or now)
    return Pull(tables={"jira_tickets": tickets}, watermark=watermark)


def pull_azure(
    client: AzureClient,
    product: Product,
    con: duckdb.DuckDBPyConnection,
    since: datetime | None,
    full: bool,
    now: datetime,
) -> Pull:
    """Pull daily and hourly request totals of a product.

    Returns the tables ``azure_requests`` and ``azure_requests_hourly``. After a
    first sync only the days since the watermark are read again, plus two: the
    newest days keep growing while telemetry is ingested.
    """
    days = AZURE_DAILY_DAYS
    if since is not None and not full:
        days = min(AZURE_DAILY_DAYS, max(2, (now - since).days + 2))
    tables = {
        "azure_requests": fetch_daily(client, product, now=now, days=days),
        "azure_requests_hourly": fetch_hourly(client, product, now=now),
    }
    return Pull(tables=tables, watermark=now)


def _known_sentry_issues(
    con: duckdb.DuckDBPyConnection, product: str
) -> dict[str, KnownIssue]:
    rows = con.execute(
        "SELECT issue_id, status, resolved_at, regressed_at, resolution_source "
        "FROM sentry_issues WHERE product = ?",
        [product],
    ).fetchall()
    return {
        row[0]: KnownIssue(
            status=row[1],
            resolved_at=row[2],
            regressed_at=row[3],
            resolution_source=row[4],
        )
        for row in rows
    }
