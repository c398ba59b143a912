"""Evidence queries and the score breakdown, on real DuckDB files."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from reliability import evidence, snapshot
from reliability.demo import HOSTILE_TITLE, STORIES
from reliability.scoring import DEFAULT_WEIGHTS
from reliability.snapshot import Snapshot
from reliability.store import Store
from tests.conftest import DEMO_END, write_rows

WEIGHTS = [
    pytest.param(DEFAULT_WEIGHTS, id="default"),
    pytest.param(
        {"runtime": 10, "quality": 30, "operations": 20, "system_health": 40},
        id="reweighted",
    ),
    pytest.param(
        {"runtime": 0, "quality": 0, "operations": 0, "system_health": 5},
        id="one-dimension",
    ),
]


@pytest.fixture(scope="module")
def snap(demo_store: Store) -> Snapshot:
    return snapshot.load_snapshot(demo_store)


@pytest.mark.parametrize("weights", WEIGHTS)
def test_breakdown_points_lost_add_up_to_the_gap_below_100(
    snap: Snapshot, weights
) -> None:  # noqa: ANN001
    table = snapshot.summary(snap, weights).set_index("slug")
    for story in STORIES:
        frame = evidence.breakdown(snap, story.slug, weights)
        overall = table.loc[story.slug, "overall"]
        if pd.isna(overall):
            assert frame["points_lost"].sum() == 0
        else:
            assert frame["points_lost"].sum() == pytest.approx(100 - overall, abs=1e-6)
            assert frame["share"].sum() == pytest.approx(1.0)


def test_breakdown_follows_the_formula_of_scoring_md(snap: Snapshot) -> None:
    frame = evidence.breakdown(snap, "billing", DEFAULT_WEIGHTS).set_index("metric")

    row = frame.loc["open_critical_issues"]
    runtime_weight = (
        frame[frame["dimension"] == "runtime"]["weight"]
        .where(frame["sub"].notna())
        .sum()
    )
    expected = (100 - row["sub"]) * row["weight"] / runtime_weight * 40 / 100
    assert row["points_lost"] == pytest.approx(expected)
    assert row["good"] == 0 and row["bad"] == 25


def test_breakdown_says_what_would_supply_missing_metrics(snap: Snapshot) -> None:
    kestrel = evidence.breakdown(snap, "kestrel", DEFAULT_WEIGHTS).set_index("metric")
    atlas = evidence.breakdown(snap, "atlas", DEFAULT_WEIGHTS).set_index("metric")

    assert kestrel.loc["crash_free_sessions", "value"] is None
    assert (
        "enable release health" in kestrel.loc["crash_free_sessions", "missing_reason"]
    )
    assert kestrel.loc["crash_free_sessions", "points_lost"] == 0
    assert atlas.loc["error_budget_remaining", "missing_reason"].startswith(
        "no Azure requests"
    )
    assert atlas[atlas["dimension"] == "system_health"]["share"].sum() == 0


def test_open_issues_put_the_weightiest_first(demo_store: Store) -> None:
    issues = evidence.open_issues(demo_store, "billing", DEMO_END)

    assert issues.iloc[0]["title"] == HOSTILE_TITLE
    ranks = issues["level"].map(evidence.LEVEL_WEIGHTS)
    assert ranks.is_monotonic_decreasing
    assert (issues["first_seen"] < pd.Timestamp(DEMO_END + dt.timedelta(days=1))).all()


def test_open_issues_follow_resolutions_and_regressions_as_of_a_day(
    store: Store,
) -> None:
    day = dt.datetime(2026, 3, 1)
    write_rows(
        store,
        sentry_issues=[
            {
                "product": "p",
                "issue_id": "1",
                "title": "Boom",
                "level": "error",
                "status": "unresolved",
                "first_seen": day,
                "resolved_at": day + dt.timedelta(days=4),
                "regressed_at": day + dt.timedelta(days=6),
            }
        ],
    )

    def is_open(on: dt.datetime) -> bool:
        return not evidence.open_issues(store, "p", on.date()).empty

    assert not is_open(day - dt.timedelta(days=1))
    assert is_open(day + dt.timedelta(days=3))
    assert not is_open(day + dt.timedelta(days=4))
    assert is_open(day + dt.timedelta(days=6))


def test_sla_breaches_are_all_late(demo_store: Store) -> None:
    breaches = evidence.sla_breaches(demo_store, "helpdesk", DEMO_END)

    assert not breaches.empty
    assert (breaches["hours_late"] > 0).all()
    assert breaches["due"].is_monotonic_decreasing
    assert breaches["url"].str.startswith("https://").all()


def test_oldest_high_priority_tickets_are_open_and_oldest_first(
    demo_store: Store,
) -> None:
    tickets = evidence.oldest_high_priority(demo_store, "helpdesk", DEMO_END)

    assert set(tickets["priority"]) <= {"Highest", "High"}
    assert tickets["created"].is_monotonic_increasing
    today = snapshot.metric_values(snapshot.load_snapshot(demo_store), "helpdesk")
    assert len(tickets) == min(10, today["open_high_priority"])


def test_sonar_projects_show_each_projects_gate(demo_store: Store) -> None:
    ledger = evidence.sonar_projects(demo_store, "ledger", DEMO_END)
    sable = evidence.sonar_projects(demo_store, "sable", DEMO_END)

    assert len(ledger) == 2
    assert set(ledger["gate"]) == {"ERROR"}
    assert (ledger["bugs"] > 100).all()
    assert (ledger["analysed_at"] < pd.Timestamp(DEMO_END + dt.timedelta(days=1))).all()
    assert sable.empty


def test_availability_matches_the_scored_error_budget(
    demo_store: Store, snap: Snapshot
) -> None:
    for slug in ("billing", "adora", "kestrel"):
        slo_percent = float(snap.products.set_index("slug").loc[slug, "slo"])
        result = evidence.availability(demo_store, slug, DEMO_END, slo_percent)
        scored = snapshot.metric_values(snap, slug)["error_budget_remaining"]

        assert result.budget_remaining == pytest.approx(scored)
        assert len(result.daily) == 90
        assert result.minutes_left == pytest.approx(
            result.budget_remaining * result.budget_minutes
        )
        assert result.burn is not None and set(result.burn.burn_rates) >= {
            "1h",
            "6h",
            "1d",
            "3d",
        }


def test_availability_without_azure_has_no_data(demo_store: Store) -> None:
    result = evidence.availability(demo_store, "atlas", DEMO_END, 99.9)

    assert not result.has_data
    assert result.daily.empty
    assert result.burn is None


def test_degrading_billing_burns_its_budget(demo_store: Store) -> None:
    result = evidence.availability(demo_store, "billing", DEMO_END, 99.9)

    assert result.burn is not None and result.burn.state == "page"
    assert result.budget_remaining == 0
