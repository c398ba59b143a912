"""The demo portfolio is deterministic and tells the stories the pages reveal."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from reliability import scoring, snapshot
from reliability.demo import build_demo
from reliability.store import Store
from tests.conftest import DEMO_END


@pytest.fixture(scope="module")
def demo_summary(demo_store: Store) -> pd.DataFrame:
    snap = snapshot.load_snapshot(demo_store)
    return snapshot.summary(snap, scoring.DEFAULT_WEIGHTS).set_index("slug")


def test_demo_has_twelve_products_in_four_teams_and_three_tiers(demo_summary) -> None:
    assert len(demo_summary) == 12
    assert demo_summary["team"].nunique() == 4
    assert set(demo_summary["tier"]) == {1, 2, 3}
    assert {"adora", "billing", "caims"} <= set(demo_summary.index)


def test_demo_is_deterministic_for_a_seed(tmp_path, demo_summary) -> None:
    again = Store(tmp_path / "again.duckdb")
    build_demo(again, end=DEMO_END)
    other = snapshot.summary(snapshot.load_snapshot(again), scoring.DEFAULT_WEIGHTS)

    other = other.set_index("slug")
    pd.testing.assert_series_equal(
        other["overall"], demo_summary.loc[other.index, "overall"]
    )


def test_another_seed_gives_other_scores(tmp_path, demo_summary) -> None:
    other_store = Store(tmp_path / "seed.duckdb")
    build_demo(other_store, seed=99, end=DEMO_END)
    other = snapshot.summary(
        snapshot.load_snapshot(other_store), scoring.DEFAULT_WEIGHTS
    )

    assert not other.set_index("slug")["overall"].equals(demo_summary["overall"])


def test_degrading_product_falls_at_least_10_points_in_30_days(demo_summary) -> None:
    assert demo_summary.at["billing", "delta_30d"] <= -10


def test_improving_product_rises_at_least_10_points_in_30_days(demo_summary) -> None:
    assert demo_summary.at["caims", "delta_30d"] >= 10


def test_product_without_azure_has_no_system_health(demo_summary) -> None:
    assert math.isnan(demo_summary.at["atlas", "system_health"])
    assert demo_summary.at["atlas", "coverage"] < 1


def test_failing_gate_product_has_hundreds_of_bugs(demo_store: Store) -> None:
    latest = demo_store.query(
        """SELECT metric, arg_max(value, analysed_at) AS value,
                  arg_max(text_value, analysed_at) AS text_value
           FROM sonar_measures WHERE product = 'ledger' AND project_key LIKE '%core'
           GROUP BY metric"""
    ).set_index("metric")

    assert latest.at["alert_status", "text_value"] == "ERROR"
    assert latest.at["bugs", "value"] >= 200


def test_sla_breaching_product_meets_few_slas(demo_store: Store) -> None:
    snap = snapshot.load_snapshot(demo_store)
    assert snapshot.metric_values(snap, "helpdesk")["sla_compliance_30d"] < 0.3


def test_one_product_is_healthy_throughout(demo_store: Store) -> None:
    daily = snapshot.rescore(
        snapshot.load_snapshot(demo_store), scoring.DEFAULT_WEIGHTS
    )
    adora = daily[daily["product"] == "adora"]

    assert len(adora) == 90
    assert (adora["status"] == scoring.HEALTHY).all()


def test_at_least_one_product_is_critical_today(demo_summary) -> None:
    assert (demo_summary["status"] == scoring.CRITICAL).sum() >= 1


def test_demo_scales_to_many_products(tmp_path) -> None:
    store = Store(tmp_path / "many.duckdb")
    build_demo(store, products=40, days=60, end=DEMO_END)

    assert store.query("SELECT count(*) AS n FROM products")["n"][0] == 40


def test_a_sliding_product_is_forecast_to_turn_critical(demo_summary) -> None:
    nimbus = demo_summary.loc["nimbus"]

    assert nimbus["status"] == scoring.WARNING
    assert nimbus["forecast_14d"] < scoring.WARNING_AT
    assert nimbus["at_risk"]
