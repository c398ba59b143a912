"""What is not measured, per product and source, and what that costs.

A gap is a dimension's metrics without a value today (the source is not
configured, has delivered nothing, or does not measure one of them), or a trend
window with days before the source's first data. Each gap names the share of the
product's overall weight it leaves uncovered and the fix. The texts come from
``insight_text``; ``reliability.insights`` re-exports ``missing_data``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import pandas as pd

from reliability import scoring
from reliability.insight_details import Details
from reliability.insight_text import METRIC_GAPS, SOURCE_FIXES, SOURCE_LABELS
from reliability.insight_values import values_today
from reliability.scoring import DIMENSION_SOURCES, DIMENSIONS, Metric
from reliability.snapshot import Snapshot, plain

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
    today = values_today(snapshot, products)
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
            rows.append(_jsm_gap(product))

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
    missing = [m for m in members if plain(values[m.name]) is None]
    if not missing:
        return []
    dim_weight = sum(m.weight for m in members)

    def uncovered(ms: list[Metric]) -> float:
        return share * sum(m.weight for m in ms) / dim_weight if dim_weight > 0 else 0.0

    source = DIMENSION_SOURCES[dim]
    if source not in sources or len(missing) == len(members):
        kind, what, fix = _source_gap(product, source, is_configured=source in sources)
        names = tuple(m.name for m in missing)
        return [_gap(product, source, dim, kind, what, names, uncovered(missing), fix)]

    # Metrics that share one cause (no Azure requests) make one entry.
    grouped: dict[tuple[str, str, str], list[Metric]] = {}
    for metric in missing:
        grouped.setdefault(METRIC_GAPS[metric.name], []).append(metric)
    rows = []
    for (what, fix, kind), ms in grouped.items():
        names = tuple(m.name for m in ms)
        rows.append(_gap(product, source, dim, kind, what, names, uncovered(ms), fix))
    return rows


def _source_gap(
    product: str, source: str, *, is_configured: bool
) -> tuple[str, str, str]:
    """The kind, text and fix of a source that gives a dimension no value at all."""
    label = SOURCE_LABELS[source]
    if not is_configured:
        return (
            "not configured",
            f"no {label} data: not configured",
            SOURCE_FIXES[source],
        )
    fix = (
        f"run `python -m reliability sync --source {source} --product {product}` "
        "and check the Data sources page for its last error"
    )
    return "no data", f"{label} is configured but has delivered no data", fix


def _jsm_gap(product: str) -> dict[str, object]:
    """A JSM project whose tickets carry no SLA: measured, but by default targets."""
    return _gap(
        product,
        "jira",
        "operations",
        "not measured",
        "no Jira Service Management SLA data: compliance uses the default priority targets",
        (),
        0.0,
        'add the SLA fields to the project\'s JSM SLAs, or set jira_sla = "priority"',
    )


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


def _as_list(value: object) -> list[str]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    return [str(v) for v in value]  # type: ignore[attr-defined]
