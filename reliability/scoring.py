"""Metrics to sub-scores to dimensions to overall, exactly as scoring.md says.

Everything here is vectorised over a frame of metric values with one row per
product and day, so re-weighting the whole portfolio for 90 days costs
milliseconds. Missing is NaN all the way through: a missing metric drops out of its
dimension, a dimension without data drops out of the overall, and a product with no
data at all has no score (NaN, shown as "No data"), never 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

DIMENSIONS: tuple[str, ...] = ("runtime", "quality", "operations", "system_health")
DEFAULT_WEIGHTS: dict[str, float] = {
    "runtime": 40.0,
    "quality": 30.0,
    "operations": 20.0,
    "system_health": 10.0,
}
DIMENSION_LABELS: dict[str, str] = {
    "runtime": "Runtime",
    "quality": "Quality",
    "operations": "Operations",
    "system_health": "System health",
}
DIMENSION_SOURCES: dict[str, str] = {
    "runtime": "sentry",
    "quality": "sonar",
    "operations": "jira",
    "system_health": "azure",
}

HEALTHY, WARNING, CRITICAL, NO_DATA = "Healthy", "Warning", "Critical", "No data"
STATUSES: tuple[str, ...] = (HEALTHY, WARNING, CRITICAL, NO_DATA)
HEALTHY_AT, WARNING_AT = 80.0, 60.0
LOW_CONFIDENCE_BELOW = 0.5

RATING_SCORES = {1: 100.0, 2: 75.0, 3: 50.0, 4: 25.0, 5: 0.0}
GATE_SCORES = {"OK": 100.0, "WARN": 50.0, "ERROR": 0.0}


@dataclass(frozen=True, kw_only=True)
class Metric:
    """One measured input and how it maps to a sub-score."""

    name: str
    dimension: str
    weight: float
    label: str
    unit: str
    kind: str = "linear"  # "linear", "rating" or "gate"
    good: float | None = None
    bad: float | None = None

    @property
    def is_lower_better(self) -> bool:
        if self.kind != "linear":
            return self.kind == "rating"
        assert self.good is not None and self.bad is not None
        return self.good < self.bad


def _linear(
    name: str, dim: str, good: float, bad: float, w: float, label: str, unit: str
) -> Metric:
    return Metric(
        name=name, dimension=dim, weight=w, label=label, unit=unit, good=good, bad=bad
    )


METRICS: tuple[Metric, ...] = (
    _linear("crash_free_sessions", "runtime", 99.9, 98.0, 30, "Crash-free sessions", "%"),
    _linear("open_critical_issues", "runtime", 0, 25, 25, "Open critical issues", "issues"),
    _linear("new_issues_30d", "runtime", 2, 40, 15, "New issues (30 days)", "issues"),
    _linear("resolution_rate_90d", "runtime", 0.9, 0.3, 15, "Resolution rate (90 days)", "ratio"),
    _linear("mttr_days", "runtime", 2, 30, 15, "Time to resolve (median)", "days"),
    Metric(name="quality_gate", dimension="quality", weight=25, label="Quality gate", unit="gate", kind="gate"),
    Metric(name="reliability_rating", dimension="quality", weight=15, label="Reliability rating", unit="rating", kind="rating"),
    Metric(name="security_rating", dimension="quality", weight=15, label="Security rating", unit="rating", kind="rating"),
    Metric(name="maintainability_rating", dimension="quality", weight=10, label="Maintainability rating", unit="rating", kind="rating"),
    _linear("coverage", "quality", 80, 20, 20, "Line coverage", "%"),
    _linear("duplicated_lines_density", "quality", 3, 20, 5, "Duplicated lines", "%"),
    _linear("security_hotspots_reviewed", "quality", 100, 0, 10, "Security hotspots reviewed", "%"),
    _linear("sla_compliance_30d", "operations", 0.95, 0.60, 35, "SLA compliance (30 days)", "ratio"),
    _linear("mttr_hours", "operations", 24, 240, 25, "Time to resolve high priority (median)", "hours"),
    _linear("open_high_priority", "operations", 0, 20, 20, "Open high-priority tickets", "tickets"),
    _linear("first_response_hours", "operations", 4, 72, 20, "First response (median)", "hours"),
    _linear("error_budget_remaining", "system_health", 1.0, 0.0, 50, "Error budget remaining (30 days)", "ratio"),
    _linear("p95_response_ms", "system_health", 300, 3000, 25, "p95 response time (7 days)", "ms"),
    _linear("failed_request_rate", "system_health", 0.1, 5.0, 25, "Failed requests (7 days)", "%"),
)  # fmt: skip
METRICS_BY_NAME: dict[str, Metric] = {metric.name: metric for metric in METRICS}
METRIC_NAMES: tuple[str, ...] = tuple(METRICS_BY_NAME)
NUMERIC_METRICS: tuple[str, ...] = tuple(m.name for m in METRICS if m.kind != "gate")


def metrics_of(dimension: str) -> tuple[Metric, ...]:
    return tuple(metric for metric in METRICS if metric.dimension == dimension)


# -- overrides ----------------------------------------------------------------

Overrides = Mapping[str, Mapping[str, float]]
"""Per-metric replacements of ``good``, ``bad`` and ``weight``, keyed by metric."""


def apply_overrides(metric: Metric, overrides: Overrides | None) -> Metric:
    """Return ``metric`` with any anchor or weight the overrides give."""
    if not overrides or metric.name not in overrides:
        return metric
    changes = overrides[metric.name]
    return replace(
        metric,
        good=changes.get("good", metric.good),
        bad=changes.get("bad", metric.bad),
        weight=changes.get("weight", metric.weight),
    )


# -- single values --------------------------------------------------------------


def sub_score(metric: Metric, value: float | str | None) -> float | None:
    """Map one metric value to 0..100, or None when the value is missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if metric.kind == "gate":
        return GATE_SCORES.get(str(value).upper())
    if metric.kind == "rating":
        return RATING_SCORES.get(int(round(float(value))))
    assert metric.good is not None and metric.bad is not None
    if metric.good == metric.bad:
        return 100.0 if _is_at_least_as_good(metric, float(value)) else 0.0
    fraction = (float(value) - metric.bad) / (metric.good - metric.bad)
    return 100.0 * min(max(fraction, 0.0), 1.0)


def _is_at_least_as_good(metric: Metric, value: float) -> bool:
    assert metric.good is not None
    return value <= metric.good if metric.is_lower_better else value >= metric.good


def status_of(overall: float | None) -> str:
    """Return the status band of an overall score."""
    if overall is None or math.isnan(overall):
        return NO_DATA
    if overall >= HEALTHY_AT:
        return HEALTHY
    if overall >= WARNING_AT:
        return WARNING
    return CRITICAL


def normalise_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """Check dimension weights and return them as given, as floats.

    Weights are relative, so only their ratios matter; they must be finite,
    non-negative, and not all zero.
    """
    unknown = set(weights) - set(DIMENSIONS)
    if unknown:
        raise ValueError(f"unknown dimension {sorted(unknown)[0]!r} in weights")
    result = {dim: float(weights.get(dim, 0.0)) for dim in DIMENSIONS}
    for dim, value in result.items():
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"the {dim} weight must be 0 or more, not {value:g}")
    if sum(result.values()) <= 0:
        raise ValueError("at least one dimension weight must be above 0")
    return result


# -- frames ---------------------------------------------------------------------


def sub_scores(
    values: pd.DataFrame, overrides: Mapping[str, Overrides] | None = None
) -> pd.DataFrame:
    """Map every metric column of ``values`` to its sub-score (NaN when missing).

    ``values`` has a ``product`` column and one column per metric name;
    ``overrides`` maps a product slug to its per-metric anchor overrides.
    """
    # Metric-major (one contiguous row per metric), which is also the layout
    # a DataFrame keeps its float columns in.
    scores = np.full((len(METRICS), len(values)), np.nan)
    linear = [
        row
        for row, metric in enumerate(METRICS)
        if metric.kind == "linear" and metric.name in values
    ]
    for row, metric in enumerate(METRICS):
        if metric.name not in values or metric.kind == "linear":
            continue
        if metric.kind == "gate":
            scores[row] = _mapped(values[metric.name], GATE_SCORES)
        else:
            rounded = np.round(_numbers(values[metric.name]))
            scores[row] = _mapped(rounded, RATING_SCORES)
    if linear:
        # All linear metrics in one pass over a metrics x rows block.
        members = [METRICS[row] for row in linear]
        good, bad = _anchors(members, values, overrides)
        numbers = np.vstack([_numbers(values[metric.name]) for metric in members])
        scores[linear] = _linear_scores(numbers, good, bad)
    return pd.DataFrame(scores.T, index=values.index, columns=list(METRIC_NAMES))


def _numbers(column: pd.Series) -> np.ndarray:
    if pd.api.types.is_float_dtype(column):
        return column.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _mapped(column: pd.Series | np.ndarray, scores: Mapping[Any, float]) -> np.ndarray:
    """``scores[value]`` for each value; NaN for a missing or unknown one."""
    result = np.full(len(column), np.nan)
    for value, score in scores.items():
        matches = column == value
        if isinstance(matches, pd.Series):
            matches = matches.to_numpy(dtype=bool, na_value=False)
        result[matches] = score
    return result


def _anchors(
    members: Sequence[Metric],
    values: pd.DataFrame,
    overrides: Mapping[str, Overrides] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """``good`` and ``bad`` per metric: one column, or one per row with overrides."""
    good = np.array([[m.good] for m in members], dtype=float)
    bad = np.array([[m.bad] for m in members], dtype=float)
    if not overrides:
        return good, bad
    good, bad = (
        np.repeat(good, len(values), axis=1),
        np.repeat(bad, len(values), axis=1),
    )
    products = values["product"].to_numpy()
    for product, product_overrides in overrides.items():
        mask = products == product
        for row, metric in enumerate(members):
            own = apply_overrides(metric, product_overrides)
            good[row, mask], bad[row, mask] = own.good, own.bad
    return good, bad


def _linear_scores(values: np.ndarray, good: np.ndarray, bad: np.ndarray) -> np.ndarray:
    span = good - bad
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = (values - bad) / span
    if (span == 0).any():
        # Equal anchors make a step: at or beyond good is 100, anything else 0.
        step = np.where(good < bad, values <= good, values >= good)
        fraction = np.where(span == 0, step, fraction)
        fraction[np.isnan(values)] = np.nan
    # Clipping keeps NaN (missing) as NaN.
    return 100.0 * np.clip(fraction, 0.0, 1.0)


def dimension_scores(
    subs: pd.DataFrame,
    overrides: Mapping[str, Overrides] | None = None,
    products: pd.Series | None = None,
) -> pd.DataFrame:
    """Aggregate sub-scores into a score and a coverage column per dimension.

    The score is the weighted mean of the present sub-scores (NaN when none is
    present); coverage is the share of the dimension's weight that had data.
    """
    result: dict[str, np.ndarray] = {}
    for dim in DIMENSIONS:
        members = metrics_of(dim)
        weights = _weight_matrix(members, len(subs), overrides, products)
        scores = subs[[m.name for m in members]].to_numpy(dtype=float)
        present = ~np.isnan(scores)

        present_weight = (weights * present).sum(axis=1)
        total_weight = np.broadcast_to(weights.sum(axis=1), present_weight.shape)
        weighted = np.where(present, scores * weights, 0.0).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            result[dim] = np.where(
                present_weight > 0, weighted / present_weight, np.nan
            )
            result[f"{dim}_coverage"] = np.where(
                total_weight > 0, present_weight / total_weight, 0.0
            )
    return pd.DataFrame(result, index=subs.index)


def _weight_matrix(
    members: tuple[Metric, ...],
    rows: int,
    overrides: Mapping[str, Overrides] | None,
    products: pd.Series | None,
) -> np.ndarray:
    """Metric weights: one row for all, or one per row when a product overrides."""
    weights = np.array([[m.weight for m in members]], dtype=float)
    if not overrides or products is None:
        return weights
    weights = np.repeat(weights, rows, axis=0)
    slugs = products.to_numpy()
    for product, product_overrides in overrides.items():
        mask = slugs == product
        for column, metric in enumerate(members):
            weights[mask, column] = apply_overrides(metric, product_overrides).weight
    return weights


def overall_scores(
    dims: pd.DataFrame, weights: Mapping[str, float] = DEFAULT_WEIGHTS
) -> pd.DataFrame:
    """Combine dimension scores into ``overall``, ``coverage`` and ``status``.

    This is the slider path: it reads only the dimension columns, never metrics.
    """
    w = normalise_weights(weights)
    scores = dims[list(DIMENSIONS)].to_numpy(dtype=float)
    coverages = dims[[f"{d}_coverage" for d in DIMENSIONS]].to_numpy(dtype=float)
    weight_row = np.array([w[d] for d in DIMENSIONS])

    present = ~np.isnan(scores)
    present_weight = (present * weight_row).sum(axis=1)
    weighted = np.where(present, scores, 0.0) @ weight_row
    with np.errstate(divide="ignore", invalid="ignore"):
        overall = np.where(present_weight > 0, weighted / present_weight, np.nan)
    coverage = (coverages @ weight_row) / weight_row.sum()

    result = pd.DataFrame({"overall": overall, "coverage": coverage}, index=dims.index)
    result["status"] = statuses(overall)
    return result


STATUS_ORDER: tuple[str, ...] = (HEALTHY, WARNING, CRITICAL, NO_DATA)
_STATUS_ARRAY = np.array(STATUS_ORDER, dtype=object)


def status_codes(overall: np.ndarray) -> np.ndarray:
    """Each overall score's position in ``STATUS_ORDER``."""
    codes = np.where(overall >= HEALTHY_AT, 0, np.where(overall >= WARNING_AT, 1, 2))
    return np.where(np.isnan(overall), 3, codes)


def statuses(overall: np.ndarray) -> np.ndarray:
    """The status band of each overall score, as an object array of strings."""
    return _STATUS_ARRAY[status_codes(overall)]


def score_frame(
    values: pd.DataFrame,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
    overrides: Mapping[str, Overrides] | None = None,
) -> pd.DataFrame:
    """Score a frame of metric values: sub-scores, dimensions and overall.

    Returns ``values``' ``product`` and ``day`` columns (when present), one
    ``sub_<metric>`` column per metric, the dimension and coverage columns, and
    ``overall``, ``coverage`` and ``status``.
    """
    subs = sub_scores(values, overrides)
    products = values["product"] if "product" in values else None
    dims = dimension_scores(subs, overrides, products)
    overall = overall_scores(dims, weights)

    keys = [c for c in ("product", "day") if c in values]
    parts = [values[keys], subs.add_prefix("sub_"), dims, overall]
    return pd.concat(parts, axis=1)
