"""What to fix first, ranked by the overall points it would gain, and what is missing.

A gain is the product re-scored with ``scoring.score_frame`` with one metric moved
to its target and everything else unchanged, under the weights in use, so it is
exactly the change the dashboard would show. The target is the metric's good
anchor, or halfway to it for slow-moving measures far from it (``target_for``).

Targets, evidence and actions are text built in ``insight_text`` from the metric
values and the facts ``insight_details.load_details`` reads from the store.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from reliability import scoring

# The "X as X" names are re-exported: pages, alerts and tests use them from here.
from reliability.insight_details import Details as Details
from reliability.insight_details import load_details as load_details
from reliability.insight_text import (
    ACTIONS,
    METRIC_GAPS,
    SOURCE_FIXES,
    SOURCE_LABELS,
    evidence_text,
    target_for,
)
from reliability.insight_text import HALFWAY_BELOW as HALFWAY_BELOW
from reliability.insight_text import HALFWAY_METRICS as HALFWAY_METRICS
from reliability.insight_text import RATING_LETTERS as RATING_LETTERS
from reliability.insight_text import Target as Target
from reliability.insight_text import format_value as format_value
from reliability.scoring import DIMENSION_SOURCES, DIMENSIONS, METRICS, Metric
from reliability.snapshot import Snapshot

DEFAULT_TIER1_FACTOR = 2.0
MIN_GAIN = 0.05
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
MISSING_COLUMNS = [
    "product",
    "name",
    "source",
    "dimension",
    "kind",
    "missing",
    "metrics",
    "uncovered_weight",
    "fix",
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
    today = _today(snapshot, products)
    candidates = []
    for product, row in today.iterrows():
        own = snapshot.overrides.get(str(product))
        for metric in METRICS:
            target = target_for(
                scoring.apply_overrides(metric, own), _plain(row[metric.name])
            )
            if target is not None:
                candidates.append((product, metric, row[metric.name], target))
    columns = [
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
    if not candidates:
        return pd.DataFrame(columns=columns)

    base = today.reset_index()[["product", *scoring.METRIC_NAMES]]
    position = {slug: i for i, slug in enumerate(base["product"])}
    moved = base.iloc[[position[c[0]] for c in candidates]].reset_index(drop=True)
    moved = moved.astype({"quality_gate": object})
    for i, (_, metric, _, target) in enumerate(candidates):
        moved.at[i, metric.name] = target.value

    before = scoring.score_frame(base, weights, snapshot.overrides).set_index("product")
    after = scoring.score_frame(moved, weights, snapshot.overrides)
    rows = []
    for i, (product, metric, value, target) in enumerate(candidates):
        old, new = before.loc[product], after.iloc[i]
        rows.append(
            {
                "product": product,
                "metric": metric.name,
                "dimension": metric.dimension,
                "value": _plain(value),
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
        )
    return pd.DataFrame(rows, columns=columns)


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
    base = _today(snapshot, [product]).reset_index()[["product", *scoring.METRIC_NAMES]]
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
        value_before=_plain(base.at[0, metric]),
        value_after=_plain(value),
        dimension_before=_number(old[dim]),
        dimension_after=_number(new[dim]),
        overall_before=_number(old["overall"]),
        overall_after=_number(new["overall"]),
        status_before=str(old["status"]),
        status_after=str(new["status"]),
        coverage_before=float(old["coverage"]),
        coverage_after=float(new["coverage"]),
    )


# -- missing data ------------------------------------------------------------------


def missing_data(
    snapshot: Snapshot,
    weights: Mapping[str, float],
    products: Iterable[str] | None = None,
    *,
    details: Mapping[str, Details] | None = None,
) -> pd.DataFrame:
    """What is not measured per product and source, and what that costs.

    Columns are ``MISSING_COLUMNS``. ``uncovered_weight`` is the share of the
    product's overall weight (0..1, under ``weights``) the gap leaves without data;
    a product's entries add up to 1 - coverage. ``kind`` is "not configured",
    "no data", "not measured", "no events" (nothing to configure) or "history"
    (measured today, but the trend window has days without data).
    """
    w = scoring.normalise_weights(weights)
    total = sum(w.values())
    today = _today(snapshot, products)
    info = snapshot.products.set_index("slug")
    rows: list[dict[str, object]] = []
    for slug, values in today.iterrows():
        product = str(slug)
        sources = (
            set(_as_list(info.at[product, "sources"]))
            if product in info.index
            else set()
        )
        own = snapshot.overrides.get(product)
        for dim in DIMENSIONS:
            members = [scoring.apply_overrides(m, own) for m in scoring.metrics_of(dim)]
            share = w[dim] / total
            rows += _dimension_gaps(product, dim, members, values, sources, share)
        rows += _history_gaps(snapshot, product, sources)
        if details and details.get(product, Details()).is_jsm_without_sla:
            rows.append(
                _gap(
                    product,
                    "jira",
                    "operations",
                    "not measured",
                    "no Jira Service Management SLA data: compliance uses the default priority targets",
                    (),
                    0.0,
                    'add the SLA fields to the project\'s JSM SLAs, or set jira_sla = "priority"',
                )
            )

    frame = pd.DataFrame(rows, columns=[c for c in MISSING_COLUMNS if c != "name"])
    frame.insert(1, "name", frame["product"].map(info["name"]) if len(info) else None)
    return frame.sort_values(
        ["uncovered_weight", "product"], ascending=[False, True], ignore_index=True
    )


def _dimension_gaps(
    product: str,
    dim: str,
    members: list[Metric],
    values: pd.Series,
    sources: set[str],
    share: float,
) -> list[dict[str, object]]:
    missing = [m for m in members if _plain(values[m.name]) is None]
    if not missing:
        return []
    dim_weight = sum(m.weight for m in members)

    def uncovered(ms: list[Metric]) -> float:
        return share * sum(m.weight for m in ms) / dim_weight if dim_weight > 0 else 0.0

    source = DIMENSION_SOURCES[dim]
    label = SOURCE_LABELS[source]
    names = tuple(m.name for m in missing)
    if source not in sources:
        return [
            _gap(
                product,
                source,
                dim,
                "not configured",
                f"no {label} data: not configured",
                names,
                uncovered(missing),
                SOURCE_FIXES[source],
            )
        ]
    if len(missing) == len(members):
        fix = (
            f"run `python -m reliability sync --source {source} --product {product}` "
            "and check the Data sources page for its last error"
        )
        return [
            _gap(
                product,
                source,
                dim,
                "no data",
                f"{label} is configured but has delivered no data",
                names,
                uncovered(missing),
                fix,
            )
        ]

    # Metrics that share one cause (no Azure requests) make one entry.
    grouped: dict[tuple[str, str, str], list[Metric]] = {}
    for metric in missing:
        grouped.setdefault(METRIC_GAPS[metric.name], []).append(metric)
    return [
        _gap(
            product,
            source,
            dim,
            kind,
            what,
            tuple(m.name for m in ms),
            uncovered(ms),
            fix,
        )
        for (what, fix, kind), ms in grouped.items()
    ]


def _history_gaps(
    snapshot: Snapshot, product: str, sources: set[str]
) -> list[dict[str, object]]:
    values = snapshot.values[snapshot.values["product"] == product]
    if values.empty:
        return []
    rows = []
    first_day, days = values["day"].min(), len(values)
    for dim in DIMENSIONS:
        source = DIMENSION_SOURCES[dim]
        names = [m.name for m in scoring.metrics_of(dim)]
        has_data = values[names].notna().any(axis=1).to_numpy()
        if source not in sources or not has_data[-1] or has_data.all():
            continue
        start = values["day"].iloc[int(has_data.argmax())]
        empty = int((~has_data).sum())
        what = (
            f"no {SOURCE_LABELS[source]} history before {start:%Y-%m-%d} "
            f"({empty} of {days} days since {first_day:%Y-%m-%d} without data)"
        )
        fix = f"run `python -m reliability sync --source {source} --product {product} --full` to backfill"
        rows.append(_gap(product, source, dim, "history", what, tuple(names), 0.0, fix))
    return rows


def _gap(
    product: str,
    source: str,
    dim: str,
    kind: str,
    what: str,
    metrics: tuple[str, ...],
    uncovered: float,
    fix: str,
) -> dict[str, object]:
    return {
        "product": product,
        "source": source,
        "dimension": dim,
        "kind": kind,
        "missing": what,
        "metrics": metrics,
        "uncovered_weight": uncovered,
        "fix": fix,
    }


# -- details from the store --------------------------------------------------------


# -- helpers -------------------------------------------------------------------------


def _today(snapshot: Snapshot, products: Iterable[str] | None) -> pd.DataFrame:
    today = snapshot.values_today()
    if products is not None:
        today = today[today.index.isin(list(products))]
    return today


def _plain(value: object) -> object:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return value


def _number(value: object) -> float | None:
    plain = _plain(value)
    return None if plain is None else float(plain)  # type: ignore[arg-type]


def _as_list(value: object) -> list[str]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    return [str(v) for v in value]  # type: ignore[attr-defined]
