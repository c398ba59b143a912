"""Metrics as of each day, on small hand-made data sets with known answers."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from reliability import metrics
from reliability.store import Store
from tests.conftest import write_rows

D1 = dt.date(2026, 3, 1)


def day(n: int) -> dt.date:
    """Day n of the test month (day 1 is 2026-03-01)."""
    return D1 + dt.timedelta(days=n - 1)


def at(n: int, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day(n), dt.time(hour))


def metrics_on(store: Store, n: int, product: str = "p") -> dict[str, object]:
    with store.reading() as con:
        frame = metrics.compute_metrics(con, day(n), days=n)
    rows = frame[(frame["product"] == product) & (frame["day"] == day(n))]
    assert len(rows) == 1
    return rows.iloc[0].to_dict()


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@pytest.fixture
def issue_store(store: Store) -> Store:
    # An error issue: seen day 1, resolved day 5, regressed day 8, resolved day 10.
    write_rows(
        store,
        sentry_issues=[
            {
                "product": "p",
                "issue_id": "1",
                "level": "error",
                "status": "resolved",
                "first_seen": at(1, 10),
                "resolved_at": at(10, 12),
                "regressed_at": at(8),
            },
            {
                "product": "p",
                "issue_id": "2",
                "level": "warning",
                "status": "unresolved",
                "first_seen": at(3),
            },
        ],
        sentry_issue_changes=[
            {
                "product": "p",
                "issue_id": "1",
                "changed_at": at(5, 12),
                "kind": "resolved",
            },
            {"product": "p", "issue_id": "1", "changed_at": at(8), "kind": "regressed"},
            {
                "product": "p",
                "issue_id": "1",
                "changed_at": at(10, 12),
                "kind": "resolved",
            },
        ],
    )
    return store


@pytest.mark.parametrize(
    ("n", "open_critical", "resolution_rate"),
    [
        pytest.param(4, 1, 0.0, id="open-the-day-before-resolution"),
        pytest.param(5, 0, 0.5, id="closed-on-the-day-of-resolution"),
        pytest.param(7, 0, 0.5, id="stays-closed"),
        pytest.param(8, 1, 0.0, id="regression-reopens"),
        pytest.param(10, 0, 0.5, id="resolved-again"),
    ],
)
def test_issue_state_follows_its_last_change_by_each_day(
    issue_store: Store, n: int, open_critical: int, resolution_rate: float
) -> None:
    values = metrics_on(issue_store, n)

    assert values["open_critical_issues"] == open_critical
    assert values["resolution_rate_90d"] == pytest.approx(resolution_rate)


def test_mttr_uses_the_latest_standing_resolution(issue_store: Store) -> None:
    assert metrics_on(issue_store, 6)["mttr_days"] == pytest.approx(4 + 2 / 24)
    assert is_missing(metrics_on(issue_store, 9)["mttr_days"])
    assert metrics_on(issue_store, 10)["mttr_days"] == pytest.approx(9 + 2 / 24)


def test_new_issues_count_first_seen_in_the_window(issue_store: Store) -> None:
    assert metrics_on(issue_store, 2)["new_issues_30d"] == 1
    assert metrics_on(issue_store, 3)["new_issues_30d"] == 2
    assert metrics_on(issue_store, 30)["new_issues_30d"] == 2
    assert metrics_on(issue_store, 31)["new_issues_30d"] == 1  # day 1 left the window


def test_crash_free_sessions_pool_projects_over_30_days(store: Store) -> None:
    write_rows(
        store,
        sentry_sessions=[
            {
                "product": "p",
                "project": "web",
                "day": day(1),
                "sessions": 900,
                "crashed": 9,
            },
            {
                "product": "p",
                "project": "api",
                "day": day(2),
                "sessions": 100,
                "crashed": 11,
            },
        ],
    )

    assert metrics_on(store, 1)["crash_free_sessions"] == pytest.approx(99.0)
    assert metrics_on(store, 2)["crash_free_sessions"] == pytest.approx(98.0)
    assert is_missing(metrics_on(store, 40)["crash_free_sessions"])


def test_no_sentry_at_all_leaves_runtime_missing_not_perfect(store: Store) -> None:
    write_rows(store, sentry_sessions=[])

    values = metrics_on(store, 5)

    for name in ("open_critical_issues", "new_issues_30d", "resolution_rate_90d"):
        assert is_missing(values[name]), name


def test_a_clean_sentry_sync_with_no_issues_counts_as_none(store: Store) -> None:
    # Synced, and Sentry had nothing to report: zero issues, the best-case rate.
    write_rows(
        store,
        sync_state=[
            {
                "source": "sentry",
                "product": "p",
                "watermark": at(1),
                "updated_at": at(1),
            }
        ],
    )

    values = metrics_on(store, 5)

    assert values["open_critical_issues"] == 0
    assert values["new_issues_30d"] == 0
    assert values["resolution_rate_90d"] == 1.0
    assert is_missing(values["mttr_days"])


def test_sonar_takes_the_newest_known_value_and_pools_by_lines(store: Store) -> None:
    rows = [
        ("a", "coverage", 2, 50.0, None),
        ("a", "ncloc", 2, 3000.0, None),
        ("a", "coverage", 6, None, None),
        ("a", "coverage", 7, 70.0, None),
        ("b", "coverage", 2, 90.0, None),
        ("b", "ncloc", 2, 1000.0, None),
        ("a", "alert_status", 2, None, "OK"),
        ("b", "alert_status", 4, None, "ERROR"),
        ("a", "reliability_rating", 2, 2.0, None),
        ("b", "reliability_rating", 2, 4.0, None),
    ]
    write_rows(
        store,
        sonar_measures=[
            {
                "product": "p",
                "project_key": k,
                "metric": m,
                "analysed_at": at(n),
                "value": v,
                "text_value": t,
            }
            for k, m, n, v, t in rows
        ],
    )

    assert is_missing(metrics_on(store, 1)["coverage"])
    assert metrics_on(store, 6)["coverage"] == pytest.approx((50 * 3 + 90 * 1) / 4)
    assert metrics_on(store, 7)["coverage"] == pytest.approx((70 * 3 + 90 * 1) / 4)
    assert metrics_on(store, 3)["quality_gate"] == "OK"
    assert metrics_on(store, 4)["quality_gate"] == "ERROR"
    assert metrics_on(store, 4)["reliability_rating"] == 4.0


@pytest.fixture
def ticket_store(store: Store) -> Store:
    write_rows(
        store,
        jira_tickets=[
            # High: due 72h after creation (day 4 00:00), resolved on day 3: met.
            {
                "product": "p",
                "ticket_id": "1",
                "priority": "High",
                "created": at(1, 0),
                "resolved": at(3, 0),
                "first_response": at(1, 4),
            },
            # Blocker counts as Highest: due day 3 00:00, never resolved: breached.
            {
                "product": "p",
                "ticket_id": "2",
                "priority": "Blocker",
                "created": at(2, 0),
                "first_response": at(2, 10),
            },
            # Minor counts as Low: due 30 days later; resolved late on day 40.
            {
                "product": "p",
                "ticket_id": "3",
                "priority": "Minor",
                "created": at(5, 0),
                "resolved": at(40, 0),
            },
        ],
    )
    return store


@pytest.mark.parametrize(
    ("n", "compliance", "open_high"),
    [
        pytest.param(2, 1.0, 2, id="none-due-yet-is-best-case"),
        pytest.param(3, 0.5, 1, id="one-met-one-breached"),
        pytest.param(36, 0.0, 1, id="breach-and-overdue-low"),
        pytest.param(40, 0.0, 1, id="late-resolution-still-breached"),
    ],
)
def test_sla_compliance_counts_due_or_resolved_in_the_window(
    ticket_store: Store, n: int, compliance: float, open_high: int
) -> None:
    values = metrics_on(ticket_store, n)

    assert values["sla_compliance_30d"] == pytest.approx(compliance)
    assert values["open_high_priority"] == open_high


def test_jira_medians(ticket_store: Store) -> None:
    values = metrics_on(ticket_store, 3)

    assert values["mttr_hours"] == pytest.approx(48.0)
    assert values["first_response_hours"] == pytest.approx((4 + 10) / 2)
    assert is_missing(metrics_on(ticket_store, 2)["mttr_hours"])


def test_jsm_sla_outcome_wins_over_priority_targets(store: Store) -> None:
    write_rows(
        store,
        jira_tickets=[
            {
                "product": "p",
                "ticket_id": "1",
                "priority": "Low",
                "created": at(1, 0),
                "resolved": at(2, 0),
                "sla_due": at(1, 8),
                "sla_met": False,
            },
        ],
    )

    assert metrics_on(store, 2)["sla_compliance_30d"] == pytest.approx(0.0)


def test_azure_budget_latency_and_failures(store: Store) -> None:
    write_rows(
        store,
        products=[{"slug": "p", "name": "P", "team": "T", "tier": 1, "slo": 99.0}],
        azure_requests=[
            {
                "product": "p",
                "app": "api",
                "day": day(n),
                "total": 1000,
                "failed": 5 if n == 1 else 0,
                "p95_ms": 200.0 if n < 9 else 400.0,
            }
            for n in range(1, 11)
        ],
    )

    values = metrics_on(store, 10)

    # 5 failures in 10,000 requests against a 1% budget: 95% left.
    assert values["error_budget_remaining"] == pytest.approx(1 - 0.0005 / 0.01)
    assert values["failed_request_rate"] == pytest.approx(0.0)
    assert values["p95_response_ms"] == pytest.approx((5 * 200 + 2 * 400) / 7)
