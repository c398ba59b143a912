"""Sentry release health: sessions and crashed sessions per project and UTC day.

Read from the organization sessions endpoint grouped by ``session.status``; the
crash-free rate is derived from these counts downstream (sources.md §1).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from reliability.sources.errors import SourceResponseError
from reliability.sources.parse import (
    require,
    require_list,
    rows_frame,
    to_count,
    to_naive_utc,
)
from reliability.sources.sentry import SOURCE, SentryClient

logger = logging.getLogger(__name__)

SESSION_COLUMNS = ["product", "project", "day", "sessions", "crashed"]


def fetch_sessions(
    client: SentryClient, product: str, projects: Sequence[str], *, days: int
) -> pd.DataFrame:
    """Return ``sentry_sessions`` rows: sessions and crashed sessions per UTC day.

    A project that sends no sessions (release health off) gives no rows, not
    zeros, so the metric reads as missing rather than perfect.
    """
    rows: list[dict[str, Any]] = []
    for project in projects:
        body = client.sessions(project, days=days)
        rows += _session_rows(product, project, body)
    logger.info("Fetched %d Sentry session days for %s", len(rows), product)
    frame = rows_frame(rows, SESSION_COLUMNS)
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    return frame


def _session_rows(
    product: str, project: str, body: Mapping[str, Any]
) -> list[dict[str, Any]]:
    what = f"sessions of project {project}"
    intervals = require_list(
        require(body, "intervals", source=SOURCE, what=what), source=SOURCE, what=what
    )
    totals = [0] * len(intervals)
    crashed = [0] * len(intervals)
    for group in require_list(
        require(body, "groups", source=SOURCE, what=what), source=SOURCE, what=what
    ):
        status = (group.get("by") or {}).get("session.status")
        series = require(
            require(group, "series", source=SOURCE, what=what),
            "sum(session)",
            source=SOURCE,
            what=what,
        )
        if len(series) != len(intervals):
            raise SourceResponseError(
                SOURCE,
                f"Sentry sent {what} with a series that does not match its intervals",
            )
        for i, count in enumerate(series):
            totals[i] += to_count(count, source=SOURCE, what=what) or 0
            if status == "crashed":
                crashed[i] += to_count(count, source=SOURCE, what=what) or 0

    return [
        {
            "product": product,
            "project": project,
            "day": to_naive_utc(day, source=SOURCE, what=what),
            "sessions": total,
            "crashed": crash,
        }
        for day, total, crash in zip(intervals, totals, crashed, strict=True)
        if total > 0
    ]
