"""The scoring model of scoring.md: worked examples and properties."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from reliability import scoring
from reliability.scoring import DIMENSIONS, METRICS, METRICS_BY_NAME, NUMERIC_METRICS


def score_one(
    values: dict[str, object], weights=scoring.DEFAULT_WEIGHTS, overrides=None
):
    frame = pd.DataFrame([{"product": "p", **values}])
    return scoring.score_frame(frame, weights, overrides).iloc[0]


def test_worked_example_runtime_matches_scoring_md() -> None:
    row = score_one(
        {
            "crash_free_sessions": 99.5,
            "open_critical_issues": 10,
            "new_issues_30d": 21,
            "resolution_rate_90d": 0.6,
            "mttr_days": None,
        }
    )

    assert row["sub_crash_free_sessions"] == pytest.approx(78.947, abs=1e-3)
    assert row["sub_open_critical_issues"] == pytest.approx(60.0)
    assert row["sub_new_issues_30d"] == pytest.approx(50.0)
    assert row["sub_resolution_rate_90d"] == pytest.approx(50.0)
    assert math.isnan(row["sub_mttr_days"])
    assert row["runtime"] == pytest.approx(63.16, abs=0.005)
    assert row["runtime_coverage"] == pytest.approx(0.85)


def test_quality_by_hand_pools_gate_ratings_and_percentages() -> None:
    row = score_one(
        {
            "quality_gate": "ERROR",
            "reliability_rating": 5.0,
            "security_rating": 2.0,
            "maintainability_rating": 1.0,
            "coverage": 50.0,
            "duplicated_lines_density": 11.5,
            "security_hotspots_reviewed": 100.0,
        }
    )

    # gate 0, E 0, B 75, A 100, coverage 50, duplication 50, hotspots 100
    expected = (
        25 * 0 + 15 * 0 + 15 * 75 + 10 * 100 + 20 * 50 + 5 * 50 + 10 * 100
    ) / 100
    assert row["quality"] == pytest.approx(expected)
    assert row["quality_coverage"] == 1.0


def test_operations_by_hand_with_one_metric_missing() -> None:
    row = score_one(
        {
            "sla_compliance_30d": 0.775,
            "mttr_hours": 24.0,
            "open_high_priority": 15,
            "first_response_hours": None,
        }
    )

    # 50, 100, 25 over weights 35, 25, 20
    assert row["operations"] == pytest.approx((35 * 50 + 25 * 100 + 20 * 25) / 80)
    assert row["operations_coverage"] == pytest.approx(0.8)


def test_system_health_by_hand() -> None:
    row = score_one(
        {
            "error_budget_remaining": 0.4,
            "p95_response_ms": 1650,
            "failed_request_rate": 0.1,
        }
    )

    assert row["system_health"] == pytest.approx((50 * 40 + 25 * 50 + 25 * 100) / 100)


def test_overall_renormalises_over_dimensions_with_data() -> None:
    row = score_one({"coverage": 80.0, "error_budget_remaining": 0.0})

    # quality 100 (coverage is its only metric), system health 0.
    assert row["overall"] == pytest.approx((30 * 100 + 10 * 0) / 40)
    assert row["coverage"] == pytest.approx((30 * 0.2 + 10 * 0.5) / 100)
    assert row["status"] == scoring.WARNING


def test_no_data_at_all_is_no_score_not_zero() -> None:
    row = score_one({})

    assert math.isnan(row["overall"])
    assert row["status"] == scoring.NO_DATA
    assert row["coverage"] == 0.0


@pytest.mark.parametrize(
    ("overall", "status"),
    [
        pytest.param(80.0, scoring.HEALTHY, id="80-is-healthy"),
        pytest.param(79.99, scoring.WARNING, id="just-under-80"),
        pytest.param(60.0, scoring.WARNING, id="60-is-warning"),
        pytest.param(59.99, scoring.CRITICAL, id="just-under-60"),
        pytest.param(None, scoring.NO_DATA, id="none"),
    ],
)
def test_status_bands(overall: float | None, status: str) -> None:
    assert scoring.status_of(overall) == status


def test_overrides_change_one_products_anchor_only() -> None:
    frame = pd.DataFrame(
        [
            {"product": "a", "open_critical_issues": 25},
            {"product": "b", "open_critical_issues": 25},
        ]
    )
    overrides = {"a": {"open_critical_issues": {"bad": 50.0}}}

    scored = scoring.score_frame(frame, overrides=overrides)

    assert scored["sub_open_critical_issues"].tolist() == [50.0, 0.0]


def test_override_of_a_weight_changes_the_dimension_mix() -> None:
    frame = pd.DataFrame([{"product": "a", "coverage": 80.0, "quality_gate": "ERROR"}])
    overrides = {"a": {"quality_gate": {"weight": 0.0}}}

    scored = scoring.score_frame(frame, overrides=overrides)

    assert scored["quality"].iloc[0] == pytest.approx(100.0)


@pytest.mark.parametrize(
    "weights",
    [
        pytest.param(
            {"runtime": -1, "quality": 1, "operations": 1, "system_health": 1},
            id="negative",
        ),
        pytest.param(dict.fromkeys(DIMENSIONS, 0), id="all-zero"),
        pytest.param({"runtime": float("nan")}, id="nan"),
        pytest.param({"speed": 1}, id="unknown"),
    ],
)
def test_bad_weights_are_refused(weights: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        scoring.normalise_weights(weights)


# -- properties ------------------------------------------------------------------


def _metric_value(metric: scoring.Metric):
    if metric.kind == "gate":
        return hst.sampled_from(["OK", "WARN", "ERROR"])
    if metric.kind == "rating":
        return hst.sampled_from([1.0, 2.0, 3.0, 4.0, 5.0])
    low, high = sorted((metric.good, metric.bad))
    span = high - low
    return hst.floats(low - span, high + span, allow_nan=False)


metric_rows = hst.fixed_dictionaries(
    {}, optional={m.name: _metric_value(m) for m in METRICS}
)
weight_sets = hst.fixed_dictionaries(
    {d: hst.integers(0, 100) for d in DIMENSIONS}
).filter(lambda w: sum(w.values()) > 0)


@settings(max_examples=150, deadline=None)
@given(values=metric_rows, weights=weight_sets)
def test_every_score_stays_in_0_to_100(values, weights) -> None:
    row = score_one(values, weights)

    for column in ("overall", *DIMENSIONS, *(f"sub_{m.name}" for m in METRICS)):
        assert math.isnan(row[column]) or 0.0 <= row[column] <= 100.0
    assert 0.0 <= row["coverage"] <= 1.0


@settings(max_examples=150, deadline=None)
@given(
    values=metric_rows, name=hst.sampled_from(NUMERIC_METRICS), step=hst.floats(0, 50)
)
def test_improving_one_metric_never_lowers_its_dimension_or_overall(
    values, name, step
) -> None:
    metric = METRICS_BY_NAME[name]
    if name not in values:
        return
    better = dict(values)
    if metric.kind == "rating":
        better[name] = max(1.0, values[name] - min(round(step), 4))
    else:
        direction = -1 if metric.is_lower_better else 1
        better[name] = values[name] + direction * step

    before, after = score_one(values), score_one(better)

    assert after[metric.dimension] >= before[metric.dimension] - 1e-9
    assert after["overall"] >= before["overall"] - 1e-9


@settings(max_examples=150, deadline=None)
@given(values=metric_rows, name=hst.sampled_from([m.name for m in METRICS]))
def test_missing_data_never_scores_as_zero(values, name) -> None:
    without = {k: v for k, v in values.items() if k != name}
    row = score_one(without)

    assert math.isnan(row[f"sub_{name}"])
    dim = METRICS_BY_NAME[name].dimension
    others = [m.name for m in scoring.metrics_of(dim) if m.name in without]
    if not others:
        assert math.isnan(row[dim])


@settings(max_examples=100, deadline=None)
@given(values=metric_rows)
def test_weights_are_relative(values) -> None:
    tens = score_one(
        values, {"runtime": 40, "quality": 30, "operations": 20, "system_health": 10}
    )
    ones = score_one(
        values, {"runtime": 4, "quality": 3, "operations": 2, "system_health": 1}
    )

    assert np.isclose(tens["overall"], ones["overall"], equal_nan=True)
    assert tens["status"] == ones["status"]
    assert tens["coverage"] == pytest.approx(ones["coverage"])


def test_sub_score_of_single_values_matches_the_frame_path() -> None:
    metric = METRICS_BY_NAME["p95_response_ms"]
    assert scoring.sub_score(metric, 1650.0) == pytest.approx(50.0)
    assert scoring.sub_score(metric, None) is None
    assert scoring.sub_score(METRICS_BY_NAME["quality_gate"], "WARN") == 50.0
    assert scoring.sub_score(METRICS_BY_NAME["security_rating"], 3.0) == 50.0
