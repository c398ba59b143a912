"""Insight details and wording: the raw-row facts behind a fix, and how they read."""

from __future__ import annotations

import datetime as dt

import pytest

from reliability import insights, scoring, snapshot
from reliability.insight_details import Details
from reliability.insight_text import evidence_text
from reliability.metrics import refresh_metric_daily
from reliability.store import Store
from tests.conftest import write_rows


def test_oldest_open_critical_issue_follows_the_status_history(store: Store) -> None:
    # Resolved only in the change history (the issue row has no resolved_at):
    # the metric counts it closed, so the evidence must not call it open.
    t0 = dt.datetime(2026, 3, 1, 9)
    write_rows(
        store,
        sentry_issues=[
            {"product": "p", "issue_id": "1", "level": "fatal", "first_seen": t0},
            {
                "product": "p",
                "issue_id": "2",
                "level": "Error",
                "first_seen": t0 + dt.timedelta(days=2),
            },
        ],
        sentry_issue_changes=[
            {
                "product": "p",
                "issue_id": "1",
                "changed_at": t0 + dt.timedelta(days=1),
                "kind": "resolved",
            },
        ],
    )
    with store.writing() as con:
        refresh_metric_daily(con, as_of=dt.date(2026, 3, 5))

    details = insights.load_details(store, dt.date(2026, 3, 5))
    values = snapshot.load_snapshot(store).values_today().loc["p"]

    assert values["open_critical_issues"] == 1
    # Issue 2, first seen on 3 March at 09:00: 2 days and 15 hours before the end of 5 March.
    assert details["p"].oldest_open_critical_days == pytest.approx(2 + 15 / 24)


@pytest.mark.parametrize(
    ("metric", "value", "details", "expected"),
    [
        pytest.param(
            "sla_compliance_30d",
            0.83,
            Details(past_sla=1),
            "SLA compliance 83% against 95%; 1 open ticket past SLA",
            id="one-ticket",
        ),
        pytest.param(
            "open_critical_issues",
            2.0,
            Details(oldest_open_critical_days=1.2),
            "2 open fatal or error issues in Sentry, oldest 1 day",
            id="one-day",
        ),
        pytest.param(
            "reliability_rating",
            3.0,
            Details(bugs=1),
            "1 bug; reliability rating C",
            id="one-bug",
        ),
    ],
)
def test_evidence_counts_agree_with_their_nouns(
    metric: str, value: float, details: Details, expected: str
) -> None:
    text = evidence_text(scoring.METRICS_BY_NAME[metric], value, details)

    assert text == expected


def test_a_gate_of_none_after_an_error_leaves_the_project_failing(
    store: Store,
) -> None:
    # The newest known gate is ERROR (NONE carries no status), for the metric
    # and for the evidence that names the failing project alike.
    t0 = dt.datetime(2026, 3, 1, 9)
    write_rows(
        store,
        sonar_measures=[
            {
                "product": "p",
                "project_key": "core",
                "metric": "alert_status",
                "analysed_at": t0,
                "text_value": "ERROR",
            },
            {
                "product": "p",
                "project_key": "core",
                "metric": "alert_status",
                "analysed_at": t0 + dt.timedelta(days=1),
                "text_value": "NONE",
            },
        ],
    )
    with store.writing() as con:
        refresh_metric_daily(con, as_of=dt.date(2026, 3, 5))

    details = insights.load_details(store, dt.date(2026, 3, 5))
    values = snapshot.load_snapshot(store).values_today().loc["p"]

    assert values["quality_gate"] == "ERROR"
    assert details["p"].failing_gate_projects == ("core",)
