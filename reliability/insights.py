"""What to fix first, ranked by the overall points it would gain.

A gain is the product re-scored with ``scoring.score_frame`` with one metric moved
to its target and everything else unchanged, under the weights in use, so it is
exactly the change the dashboard would show. The target is the metric's good
anchor, or halfway to it for slow-moving measures far from it (``target_for``).

Targets, evidence and actions are text built in ``insight_text`` from the metric
values and the facts ``insight_details.load_details`` reads from the store. What
is missing is reported by ``reliability.missing_data``, re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from reliability import scoring

# The "X as X" names are re-exported: pages, alerts and tests use them from here.
from reliability.insight_details import Details as Details
from reliability.insight_details import load_details as load_details
from reliability.insight_text import ACTIONS, evidence_text
from reliability.insight_text import HALFWAY_BELOW as HALFWAY_BELOW
from reliability.insight_text import HALFWAY_METRICS as HALFWAY_METRICS
from reliability.insight_text import RATING_LETTERS as RATING_LETTERS
from reliability.insight_text import SOURCE_LABELS as SOURCE_LABELS
from reliability.insight_text import Target as Target
from reliability.insight_text import format_value as format_value
from reliability.insight_text import target_for as target_for
from reliability.insight_values import values_today
from reliability.missing_data import MISSING_COLUMNS as MISSING_COLUMNS
from reliability.missing_data import missing_data as missing_data
from reliability.scoring import METRICS, Metric
from reliability.snapshot import Snapshot, plain, plain_number

DEFAULT_TIER1_FACTOR = 2.0
MIN_GAIN = 0.05
GAIN_COLUMNS = [
    "product",
    "metric",
    "dimension",
    "value",
    "target",
    "is_halfway",
    "target_note",
    "dimension_before",
    "dimension_after",
    "overall_before",
    "overall_after",
    "status_before",
    "status_after",
    "gain",
]
INSIGHT_COLUMNS = [
    "product",
    "name",
    "team",
    "tier",
    "metric",
    "label",
    "dimension",
    "value",
    "target",
    "is_halfway",
    "target_note",
    "evidence",
    "action",
    "dimension_before",
    "dimension_after",
    "overall_before",
    "overall_after",
    "gain",
    "priority",
    "status_before",
    "status_after",
]


@dataclass(frozen=True, kw_only=True)
class WhatIf:
    """One product re-scored with one metric set to a chosen value."""

    product: str
    metric: str
    dimension: str
    value_before: object
    value_after: object
    dimension_before: float | None
    dimension_after: float | None
    overall_before: float | None
    overall_after: float | None
    status_before: str
    status_after: str
    coverage_before: float
    coverage_after: float


# -- gains ---------------------------------------------------------------------------


def metric_gains(
    snapshot: Snapshot,
    weights: Mapping[str, float],
    products: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Re-score each product once per metric moved to its target.

    One row per product and metric that has a target, with ``value``, ``target``,
    ``is_halfway``, ``target_note``, ``dimension_before``/``_after``,
    ``overall_before``/``_after``, ``status_before``/``_after`` and ``gain``
    (overall points, after minus before).
    """
    today = values_today(snapshot, products)
    candidates = _candidates(snapshot, today)
    if not candidates:
        return pd.DataFrame(columns=GAIN_COLUMNS)

    base = today.reset_index()[["product", *scoring.METRIC_NAMES]]
    position = {slug: i for i, slug in enumerate(base["product"])}
    moved = base.iloc[[position[c[0]] for c in candidates]].reset_index(drop=True)
    moved = moved.astype({"quality_gate": object})
    for i, (_, metric, _, target) in enumerate(candidates):
        moved.at[i, metric.name] = target.value

    before = scoring.score_frame(base, weights, snapshot.overrides).set_index("product")
    after = scoring.score_frame(moved, weights, snapshot.overrides)
    rows = [
        _gain_row(product, metric, value, target, before.loc[product], after.iloc[i])
        for i, (product, metric, value, target) in enumerate(candidates)
    ]
    return pd.DataFrame(rows, columns=GAIN_COLUMNS)


def _candidates(
    snapshot: Snapshot, today: pd.DataFrame
) -> list[tuple[str, Metric, object, Target]]:
    """Each product and metric with a target, with today's value and the target."""
    candidates = []
    for product, row in today.iterrows():
        own = snapshot.overrides.get(str(product))
        for metric in METRICS:
            target = target_for(
                scoring.apply_overrides(metric, own), plain(row[metric.name])
            )
            if target is not None:
                candidates.append((product, metric, row[metric.name], target))
    return candidates


def _gain_row(
    product: str,
    metric: Metric,
    value: object,
    target: Target,
    old: pd.Series,
    new: pd.Series,
) -> dict[str, object]:
    return {
        "product": product,
        "metric": metric.name,
        "dimension": metric.dimension,
        "value": plain(value),
        "target": target.value,
        "is_halfway": target.is_halfway,
        "target_note": target.note,
        "dimension_before": old[metric.dimension],
        "dimension_after": new[metric.dimension],
        "overall_before": old["overall"],
        "overall_after": new["overall"],
        "status_before": old["status"],
        "status_after": new["status"],
        "gain": new["overall"] - old["overall"],
    }


def insights(
    snapshot: Snapshot,
    weights: Mapping[str, float],
    *,
    tier1_factor: float = DEFAULT_TIER1_FACTOR,
    details: Mapping[str, Details] | None = None,
    products: Iterable[str] | None = None,
) -> pd.DataFrame:
    """What to fix, most valuable first: one row per product and metric.

    Columns are ``INSIGHT_COLUMNS``. ``gain`` is overall points; ``priority`` is the
    gain with a tier-1 product's points multiplied by ``tier1_factor``; rows are
    ranked by priority, then gain. Gains under ``MIN_GAIN`` points are left out.
    """
    gains = metric_gains(snapshot, weights, products)
    gains = gains[gains["gain"] >= MIN_GAIN]
    if gains.empty:
        return pd.DataFrame(columns=INSIGHT_COLUMNS)

    info = snapshot.products.set_index("slug")[["name", "team", "tier"]]
    table = gains.join(info, on="product")
    factor = table["tier"].map(lambda tier: tier1_factor if int(tier) == 1 else 1.0)
    table["priority"] = table["gain"] * factor
    metrics = [scoring.METRICS_BY_NAME[name] for name in table["metric"]]
    table["label"] = [m.label for m in metrics]
    details = details or {}
    table["evidence"] = [
        evidence_text(m, v, details.get(p))
        for m, v, p in zip(metrics, table["value"], table["product"], strict=True)
    ]
    table["action"] = [ACTIONS[m.name] for m in metrics]

    table = table.sort_values(
        ["priority", "gain", "name", "metric"], ascending=[False, False, True, True]
    )
    return table[INSIGHT_COLUMNS].reset_index(drop=True)


def top_per_product(table: pd.DataFrame) -> pd.DataFrame:
    """The best insight of each product, in the ranking's order."""
    return table.drop_duplicates("product").reset_index(drop=True)


def what_if(
    snapshot: Snapshot,
    product: str,
    weights: Mapping[str, float],
    metric: str,
    value: object,
) -> WhatIf:
    """Re-score ``product`` with ``metric`` set to ``value``, all else unchanged."""
    base = values_today(snapshot, [product]).reset_index()[
        ["product", *scoring.METRIC_NAMES]
    ]
    if base.empty:
        raise KeyError(f"no metric values for product {product!r}")
    moved = base.astype({"quality_gate": object}).copy()
    moved.at[0, metric] = value
    frame = scoring.score_frame(
        pd.concat([base, moved], ignore_index=True), weights, snapshot.overrides
    )
    old, new = frame.iloc[0], frame.iloc[1]
    dim = scoring.METRICS_BY_NAME[metric].dimension
    return WhatIf(
        product=product,
        metric=metric,
        dimension=dim,
        value_before=plain(base.at[0, metric]),
        value_after=plain(value),
        dimension_before=plain_number(old[dim]),
        dimension_after=plain_number(new[dim]),
        overall_before=plain_number(old["overall"]),
        overall_after=plain_number(new["overall"]),
        status_before=str(old["status"]),
        status_after=str(new["status"]),
        coverage_before=float(old["coverage"]),
        coverage_after=float(new["coverage"]),
    )


# -- helpers -------------------------------------------------------------------------
