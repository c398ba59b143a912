"""Sync run records, freshness and the coverage matrix of the Data sources page."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from reliability import runs, snapshot
from reliability.store import Store
from tests.conftest import write_rows


def test_source_status_reports_last_success_and_last_error(store: Store) -> None:
    t0 = dt.datetime(2026, 5, 1, 10)
    write_rows(
        store,
        products=[{"slug": "a", "name": "A", "team": "T", "tier": 1}],
        jira_tickets=[{"product": "a", "ticket_id": "1", "created": t0}],
        sync_runs=[
            {
                "started_at": t0,
                "finished_at": t0,
                "source": "jira",
                "product": "a",
                "rows": 1,
                "result": "ok",
                "error": None,
            },
            {
                "started_at": t0 + dt.timedelta(hours=1),
                "finished_at": t0 + dt.timedelta(hours=1),
                "source": "jira",
                "product": "a",
                "rows": 0,
                "result": "failed",
                "error": "Jira refused the token for search (401)",
            },
        ],
    )

    row = runs.source_status(store).iloc[0]

    assert row["last_success"] == pd.Timestamp(t0)
    assert row["last_result"] == "failed"
    assert "401" in row["last_error"]
    assert (row["runs"], row["failures"], row["rows"]) == (2, 1, 1)
    fresh = runs.freshness(runs.source_status(store)).iloc[0]
    assert (fresh["source"], fresh["failing"]) == ("jira", 1)


def test_coverage_matrix_tells_unconfigured_from_empty(demo_store: Store) -> None:
    matrix = runs.coverage_matrix(snapshot.load_snapshot(demo_store)).set_index("slug")

    assert math.isnan(matrix.at["atlas", "system_health"])  # no Azure configured
    assert matrix.at["kestrel", "runtime"] == 0.7  # no sessions: 30 of 100 missing
    assert matrix.at["adora", "quality"] == 1.0
