"""Insights and the missing-data report: gains re-scored by hand, and the demo's stories."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from reliability import insights, scoring, snapshot
from reliability.scoring import DEFAULT_WEIGHTS, METRIC_NAMES
from reliability.store import Store

DAY = dt.date(2026, 11, 30)
AT_GOOD = {
    "crash_free_sessions": 99.9,
    "open_critical_issues": 0,
    "new_issues_30d": 2,
    "resolution_rate_90d": 0.9,
    "mttr_days": 2,
    "quality_gate": "OK",
    "reliability_rating": 1,
    "security_rating": 1,
    "maintainability_rating": 1,
    "coverage": 80,
    "duplicated_lines_density": 3,
    "security_hotspots_reviewed": 100,
    "sla_compliance_30d": 0.95,
    "mttr_hours": 24,
    "open_high_priority": 0,
    "first_response_hours": 4,
    "error_budget_remaining": 1.0,
    "p95_response_ms": 300,
    "failed_request_rate": 0.1,
}
ALL_SOURCES = ["sentry", "sonar", "jira", "azure"]


def make_snapshot(
    rows: dict[str, dict[str, object]],
    *,
    tiers: dict[str, int] | None = None,
    sources: dict[str, list[str]] | None = None,
    overrides: dict[str, scoring.Overrides] | None = None,
) -> snapshot.Snapshot:
    """A one-day snapshot built by hand: ``rows`` maps a slug to its metric values."""
    values = pd.DataFrame(
        [
            {
                "product": slug,
                "day": DAY,
                **{n: metrics.get(n, np.nan) for n in METRIC_NAMES},
            }
            for slug, metrics in rows.items()
        ]
    ).astype({"quality_gate": object})
    products = pd.DataFrame(
        {
            "slug": list(rows),
            "name": [s.title() for s in rows],
            "team": "T",
            "tier": [(tiers or {}).get(s, 2) for s in rows],
            "sources": [(sources or {}).get(s, ALL_SOURCES) for s in rows],
        }
    )
    return snapshot.build_snapshot(
        as_of=DAY, products=products, values=values, overrides=overrides
    )


def gain_of(table: pd.DataFrame, product: str, metric: str) -> float:
    row = table[(table["product"] == product) & (table["metric"] == metric)]
    assert len(row) == 1, f"no single insight for {product}/{metric}"
    return float(row["gain"].iloc[0])


# -- by hand -----------------------------------------------------------------------------


def test_insights_gain_matches_a_rescore_by_hand_for_one_dimension() -> None:
    runtime_only = {
        k: v
        for k, v in AT_GOOD.items()
        if scoring.METRICS_BY_NAME[k].dimension == "runtime"
    }
    snap = make_snapshot({"a": {**runtime_only, "crash_free_sessions": 99.0}})

    table = insights.insights(snap, DEFAULT_WEIGHTS)

    # Runtime is the only dimension, so the overall is runtime:
    # (30 * 100 * (99.0 - 98.0) / 1.9 + 70 * 100) / 100 before, 100 after.
    before = (30 * 100 * (99.0 - 98.0) / (99.9 - 98.0) + 70 * 100) / 100
    assert table["metric"].tolist() == ["crash_free_sessions"]
    assert table["overall_before"].iloc[0] == pytest.approx(before, abs=1e-9)
    assert gain_of(table, "a", "crash_free_sessions") == pytest.approx(
        100 - before, abs=1e-9
    )
    assert table["target"].iloc[0] == pytest.approx(99.9)
    assert not table["is_halfway"].iloc[0]


def test_insights_gain_matches_a_rescore_by_hand_across_dimensions() -> None:
    both = {
        k: v
        for k, v in AT_GOOD.items()
        if scoring.METRICS_BY_NAME[k].dimension in ("runtime", "quality")
    }
    snap = make_snapshot(
        {"b": {**both, "open_critical_issues": 10, "quality_gate": "ERROR"}}
    )

    table = insights.insights(snap, DEFAULT_WEIGHTS)

    # runtime = (25*60 + 75*100)/100 = 90; quality = (25*0 + 75*100)/100 = 75.
    before = (40 * 90 + 30 * 75) / 70
    assert gain_of(table, "b", "quality_gate") == pytest.approx(
        (40 * 90 + 30 * 100) / 70 - before
    )
    assert gain_of(table, "b", "open_critical_issues") == pytest.approx(
        (40 * 100 + 30 * 75) / 70 - before
    )
    assert table["metric"].tolist() == ["quality_gate", "open_critical_issues"]


def test_insights_gain_follows_the_chosen_weights() -> None:
    snap = make_snapshot(
        {"b": {**AT_GOOD, "quality_gate": "ERROR", "open_critical_issues": 10}}
    )
    weights = {"runtime": 10, "quality": 10, "operations": 0, "system_health": 0}

    table = insights.insights(snap, weights)

    # Four dimensions present but two weigh 0: the gate adds 25 quality points at 10/20.
    assert gain_of(table, "b", "quality_gate") == pytest.approx(25 * 10 / 20)
    assert gain_of(table, "b", "open_critical_issues") == pytest.approx(
        40 * 0.25 * 10 / 20 * 1.0
    )


def test_insights_are_ranked_by_gain_with_tier1_counted_double() -> None:
    rows = {
        "big": {**AT_GOOD, "sla_compliance_30d": 0.60},  # 35 * 0.2 = 7.0 points
        "small": {**AT_GOOD, "open_high_priority": 10},  # 20 * 0.5 * 0.2 = 2.0 points
        "tier1": {**AT_GOOD, "mttr_hours": 132},  # 25 * 0.5 * 0.2 = 2.5, x2 = 5.0
    }
    snap = make_snapshot(rows, tiers={"tier1": 1})

    table = insights.insights(snap, DEFAULT_WEIGHTS)
    doubled = insights.insights(snap, DEFAULT_WEIGHTS, tier1_factor=4.0)

    assert table["product"].tolist() == ["big", "tier1", "small"]
    assert table["gain"].tolist() == pytest.approx([7.0, 2.5, 2.0])
    assert table["priority"].tolist() == pytest.approx([7.0, 5.0, 2.0])
    assert doubled["product"].tolist() == ["tier1", "big", "small"]


def test_insights_none_for_metrics_at_their_good_anchor() -> None:
    beyond = {
        **AT_GOOD,
        "crash_free_sessions": 100.0,
        "coverage": 95.0,
        "open_critical_issues": 0,
    }
    snap = make_snapshot({"fine": AT_GOOD, "better": beyond})

    assert insights.insights(snap, DEFAULT_WEIGHTS).empty
    assert insights.metric_gains(snap, DEFAULT_WEIGHTS).empty


def test_insights_far_off_codebase_metric_targets_halfway_and_says_so() -> None:
    snap = make_snapshot({"c": {**AT_GOOD, "coverage": 20.0, "reliability_rating": 5}})

    table = insights.insights(snap, DEFAULT_WEIGHTS).set_index("metric")

    assert table.at["coverage", "target"] == pytest.approx(50.0)
    assert table.at["coverage", "is_halfway"]
    assert "halfway" in table.at["coverage", "target_note"]
    # Half of coverage's 20 quality points, at quality's 30% of the weight.
    assert table.at["coverage", "gain"] == pytest.approx(20 * 0.5 * 0.3)
    assert table.at["reliability_rating", "target"] == 3.0
    assert table.at["reliability_rating", "target_note"] == "rating C, halfway to A"


def test_insights_respect_per_product_anchor_overrides() -> None:
    overrides = {"strict": {"coverage": {"good": 90.0, "bad": 50.0}}}
    snap = make_snapshot({"strict": {**AT_GOOD, "coverage": 80.0}}, overrides=overrides)

    table = insights.insights(snap, DEFAULT_WEIGHTS)

    assert table["target"].tolist() == [90.0]
    assert gain_of(table, "strict", "coverage") == pytest.approx(20 * 0.25 * 0.3)


def test_what_if_matches_the_insight_gain() -> None:
    snap = make_snapshot({"b": {**AT_GOOD, "quality_gate": "ERROR"}})
    table = insights.insights(snap, DEFAULT_WEIGHTS)

    result = insights.what_if(snap, "b", DEFAULT_WEIGHTS, "quality_gate", "OK")

    assert result.overall_after - result.overall_before == pytest.approx(
        table["gain"].iloc[0]
    )
    assert (result.dimension_before, result.dimension_after) == (75.0, 100.0)
    assert (result.status_before, result.status_after) == ("Healthy", "Healthy")


def test_what_if_can_cross_a_status_band() -> None:
    snap = make_snapshot({"d": {**AT_GOOD, "sla_compliance_30d": 0.95}})

    result = insights.what_if(
        snap,
        "d",
        {"runtime": 0, "quality": 0, "operations": 1, "system_health": 0},
        "sla_compliance_30d",
        0.6,
    )

    assert result.overall_after == pytest.approx(65.0)
    assert result.status_after == "Warning"


# -- missing data ------------------------------------------------------------------------


def test_missing_data_gives_the_uncovered_weight_per_source() -> None:
    runtime = {
        k: v
        for k, v in AT_GOOD.items()
        if scoring.METRICS_BY_NAME[k].dimension == "runtime"
        and k != "crash_free_sessions"
    }
    snap = make_snapshot({"e": runtime}, sources={"e": ["sentry"]})

    frame = insights.missing_data(snap, DEFAULT_WEIGHTS).set_index("source")

    assert frame.at["sentry", "kind"] == "not measured"
    assert "Sentry sessions" in frame.at["sentry", "missing"]
    assert frame.at["sentry", "uncovered_weight"] == pytest.approx(0.4 * 0.3)
    assert frame.at["sonar", "kind"] == "not configured"
    assert frame.at["sonar", "uncovered_weight"] == pytest.approx(0.3)
    assert frame.at["jira", "uncovered_weight"] == pytest.approx(0.2)
    assert frame.at["azure", "uncovered_weight"] == pytest.approx(0.1)
    assert "sonar_projects" in frame.at["sonar", "fix"]

    coverage = snapshot.summary(snap, DEFAULT_WEIGHTS)["coverage"].iloc[0]
    assert frame["uncovered_weight"].sum() == pytest.approx(1 - coverage)


def test_missing_data_follows_the_weights_and_skips_complete_products() -> None:
    no_azure = {
        k: v
        for k, v in AT_GOOD.items()
        if scoring.METRICS_BY_NAME[k].dimension != "system_health"
    }
    snap = make_snapshot(
        {"full": AT_GOOD, "f": no_azure},
        sources={"f": ["sentry", "sonar", "jira", "azure"]},
    )

    frame = insights.missing_data(
        snap, {"runtime": 1, "quality": 1, "operations": 1, "system_health": 1}
    )

    assert frame["product"].tolist() == ["f"]
    assert frame["kind"].iloc[0] == "no data"
    assert frame["uncovered_weight"].iloc[0] == pytest.approx(0.25)


# -- the demo ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(demo_store: Store) -> tuple[snapshot.Snapshot, dict[str, insights.Details]]:
    snap = snapshot.load_snapshot(demo_store)
    return snap, insights.load_details(demo_store, snap.as_of)


def test_insights_on_the_demo_name_its_stories_near_the_top(demo) -> None:
    snap, details = demo
    table = insights.insights(snap, DEFAULT_WEIGHTS, details=details)
    top = insights.top_per_product(table)

    assert {"billing", "ledger", "helpdesk"} <= set(top["product"].head(5))
    ledger = table[table["product"] == "ledger"].set_index("metric")
    assert ledger.index[0] == "quality_gate"
    assert ledger.at["quality_gate", "evidence"].startswith(
        "quality gate ERROR on acme_ledger"
    )
    assert "bugs; reliability rating E" in ledger.at["reliability_rating", "evidence"]
    helpdesk = table[table["product"] == "helpdesk"].set_index("metric")
    assert "past SLA" in helpdesk.at["sla_compliance_30d", "evidence"]
    assert table["priority"].is_monotonic_decreasing


def test_insights_on_the_demo_gain_exactly_what_the_score_would(demo) -> None:
    snap, _ = demo
    table = insights.insights(snap, DEFAULT_WEIGHTS).head(15)
    overall = snapshot.summary(snap, DEFAULT_WEIGHTS).set_index("slug")["overall"]

    for row in table.itertuples():
        result = insights.what_if(
            snap, row.product, DEFAULT_WEIGHTS, row.metric, row.target
        )
        assert row.overall_before == pytest.approx(overall[row.product], abs=1e-9)
        assert row.gain == pytest.approx(
            result.overall_after - result.overall_before, abs=1e-9
        )


def test_missing_data_on_the_demo_names_each_gap(demo) -> None:
    snap, details = demo
    frame = insights.missing_data(snap, DEFAULT_WEIGHTS, details=details)
    by_key = frame.set_index(["product", "source"])

    assert by_key.at[("atlas", "azure"), "uncovered_weight"] == pytest.approx(0.1)
    assert by_key.at[("kestrel", "sentry"), "uncovered_weight"] == pytest.approx(0.12)
    assert "Sentry sessions" in by_key.at[("kestrel", "sentry"), "missing"]
    assert by_key.at[("sable", "sonar"), "uncovered_weight"] == pytest.approx(0.3)
    summary = snapshot.summary(snap, DEFAULT_WEIGHTS).set_index("slug")
    totals = frame.groupby("product")["uncovered_weight"].sum()
    for product, uncovered in totals.items():
        assert uncovered == pytest.approx(1 - summary.at[product, "coverage"])
