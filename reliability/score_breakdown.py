"""Why a product has the score it has: every metric and the points it costs.

``breakdown`` explains the overall score metric by metric from a snapshot, and
says for each missing metric what would supply it. It reads no store: the raw
rows behind the score are queried in ``reliability.evidence``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from reliability.scoring import (
    DIMENSION_SOURCES,
    DIMENSIONS,
    METRICS,
    Metric,
    Overrides,
    apply_overrides,
    normalise_weights,
)
from reliability.snapshot import Snapshot, plain

# What would supply a missing metric, for the "why this score" table.
SOURCE_HINTS = {
    "runtime": "no Sentry data: map the product's Sentry projects and sync",
    "quality": "no SonarCloud analysis: map the product's Sonar project keys and sync",
    "operations": "no Jira tickets: set the product's JQL and sync",
    "system_health": "no Azure requests: map the product's Application Insights apps and sync",
}
MISSING_HINTS = {
    "crash_free_sessions": "no Sentry sessions: enable release health in the SDKs",
    "mttr_days": "no issue was resolved in the last 90 days",
    "mttr_hours": "no high-priority ticket was resolved in the last 30 days",
    "first_response_hours": "no ticket created in the last 30 days has had a response",
    "quality_gate": "no quality gate status: define a gate in SonarCloud",
    "coverage": "no coverage: upload test coverage reports to SonarCloud",
    "security_hotspots_reviewed": "no hotspot review figure: review hotspots in SonarCloud",
    "p95_response_ms": "no response times: send request durations to Application Insights",
}


def breakdown(
    snapshot: Snapshot, product: str, weights: Mapping[str, float]
) -> pd.DataFrame:
    """Every metric of ``product`` today and the overall points it costs.

    One row per metric, in ``METRICS`` order. Columns: ``dimension``, ``metric``,
    ``label``, ``unit``, ``kind``, ``value`` (None when missing), ``good``,
    ``bad``, ``sub`` (0..100, NaN when missing), ``weight`` (the metric's weight
    in its dimension), ``share`` (its share of the overall, 0..1, 0 when
    missing), ``points_lost`` (``(100 - sub) * share``; the column sums to
    ``100 - overall``) and ``missing_reason``.
    """
    today = snapshot.today()
    values = snapshot.values_today()
    row = today.loc[product] if product in today.index else None
    own: Overrides | None = snapshot.overrides.get(product)
    metrics = [apply_overrides(metric, own) for metric in METRICS]

    subs = {
        m.name: _float(row[f"sub_{m.name}"]) if row is not None else np.nan
        for m in metrics
    }
    dim_shares = _dimension_shares(row, weights)
    frame = pd.DataFrame(
        [
            {
                "dimension": m.dimension,
                "metric": m.name,
                "label": m.label,
                "unit": m.unit,
                "kind": m.kind,
                "value": _value(values, product, m.name),
                "good": m.good,
                "bad": m.bad,
                "sub": subs[m.name],
                "weight": m.weight,
            }
            for m in metrics
        ]
    )

    present = frame["sub"].notna()
    frame["share"] = _overall_shares(frame, present, dim_shares)
    frame["points_lost"] = ((100.0 - frame["sub"]) * frame["share"]).where(present, 0.0)
    frame["missing_reason"] = [
        None if has else _missing_reason(m, frame, snapshot, product)
        for m, has in zip(metrics, present, strict=True)
    ]
    return frame


def _overall_shares(
    frame: pd.DataFrame, present: pd.Series, dim_shares: Mapping[str, float]
) -> pd.Series:
    """Each metric's share of the overall; 0 for a missing metric.

    A metric with data gets its weight among the metrics of its dimension that
    have data, times the dimension's share.
    """
    present_weight = (
        frame["weight"].where(present, 0.0).groupby(frame["dimension"]).transform("sum")
    )
    in_dim = (frame["weight"] / present_weight.where(present_weight > 0)).where(
        present, 0.0
    )
    return in_dim.fillna(0.0) * frame["dimension"].map(dim_shares)


def _dimension_shares(
    row: pd.Series | None, weights: Mapping[str, float]
) -> dict[str, float]:
    """Each dimension's share of the overall: its weight among those with data."""
    normalised = normalise_weights(weights)
    has_data = {d: row is not None and not np.isnan(_float(row[d])) for d in DIMENSIONS}
    total = sum(normalised[d] for d in DIMENSIONS if has_data[d])
    return {
        d: normalised[d] / total if has_data[d] and total > 0 else 0.0
        for d in DIMENSIONS
    }


def _missing_reason(
    metric: Metric, frame: pd.DataFrame, snapshot: Snapshot, product: str
) -> str:
    sources = snapshot.products.set_index("slug").loc[product, "sources"]
    source = DIMENSION_SOURCES[metric.dimension]
    dim_rows = frame[frame["dimension"] == metric.dimension]
    has_source = source in list(sources if sources is not None else [])
    if not has_source or dim_rows["sub"].isna().all():
        return SOURCE_HINTS[metric.dimension]
    return MISSING_HINTS.get(
        metric.name, f"{SOURCE_HINTS[metric.dimension].split(':')[0]} for this measure"
    )


def _value(values: pd.DataFrame, product: str, name: str) -> object:
    if product not in values.index or name not in values:
        return None
    return plain(values.at[product, name])


def _float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return np.nan
