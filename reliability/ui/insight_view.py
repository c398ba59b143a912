"""Insights on a page: the ranked fixes, the what-if panel and the missing data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from reliability import insights, snapshot
from reliability.scoring import (
    DIMENSION_LABELS,
    DIMENSIONS,
    METRIC_NAMES,
    METRICS_BY_NAME,
    Metric,
    apply_overrides,
)
from reliability.snapshot import Snapshot
from reliability.store import Store, StoreVersion
from reliability.ui.frame import Context

ALL_PRODUCTS = ""
_GATES = ["OK", "WARN", "ERROR"]


# -- cached computations -----------------------------------------------------------------


@st.cache_data(max_entries=4, show_spinner=False)
def _details(
    version: StoreVersion | None, as_of: object
) -> dict[str, insights.Details]:
    if version is None:
        return {}
    return insights.load_details(Store(version.path), as_of)  # type: ignore[arg-type]


def details(snap: Snapshot) -> dict[str, insights.Details]:
    """The facts behind the metrics, read once per version of the data file."""
    return _details(snap.version, snap.as_of)


@st.cache_data(max_entries=32, show_spinner=False)
def _insights(
    version: StoreVersion | None,
    overrides: str,
    weights: tuple[float, ...],
    slugs: tuple[str, ...],
    factor: float,
    _snap: Snapshot,
) -> pd.DataFrame:
    return insights.insights(
        _snap,
        dict(zip(DIMENSIONS, weights, strict=True)),
        tier1_factor=factor,
        details=details(_snap),
        products=slugs,
    )


def ranked_insights(ctx: Context, slugs: Sequence[str]) -> pd.DataFrame:
    """Insights of ``slugs`` under the chosen weights, most valuable first."""
    snap = ctx.snapshot
    factor = (
        ctx.portfolio.tier1_factor if ctx.portfolio else insights.DEFAULT_TIER1_FACTOR
    )
    weights = tuple(float(ctx.view.weights[d]) for d in DIMENSIONS)
    return _insights(
        snap.version,
        repr(sorted(snap.overrides.items())),
        weights,
        tuple(slugs),
        factor,
        snap,
    )


# -- the page's pieces -------------------------------------------------------------------


def product_filter(ctx: Context) -> str | None:
    """A product picker over the products the sidebar keeps; kept in the URL."""
    names = dict(zip(ctx.table["slug"], ctx.table["name"], strict=True))
    options = [
        ALL_PRODUCTS,
        *sorted(ctx.shown["slug"], key=lambda s: names[s].casefold()),
    ]
    current = ctx.view.product if ctx.view.product in options else ALL_PRODUCTS
    choice = st.selectbox(
        "Product",
        options,
        index=options.index(current),
        format_func=lambda s: "All products" if s == ALL_PRODUCTS else names[s],
        help="Show the insights of one product, with its what-if panel",
    )
    if choice != (ctx.view.product or ALL_PRODUCTS):
        if choice:
            st.query_params["product"] = choice
        else:
            st.query_params.pop("product", None)
    return choice or None


def insights_section(ctx: Context, slugs: Sequence[str]) -> None:
    """The best fix per product, then every fix, ranked by points gained."""
    table = ranked_insights(ctx, slugs)
    if table.empty:
        st.success(
            "Nothing to fix: every measured metric is at its good anchor.",
            icon=":material/check_circle:",
        )
        return
    factor = (
        ctx.portfolio.tier1_factor if ctx.portfolio else insights.DEFAULT_TIER1_FACTOR
    )
    st.caption(
        "Points gained: the product's overall score with that one metric at the target, "
        "everything else unchanged, under the weights in the sidebar. Ranking points "
        f"count a tier-1 product's points {factor:g} times."
    )
    top = insights.top_per_product(table)
    st.markdown(f"**Top fix per product** ({len(top)})")
    _insight_table(top, ctx, key="insights_top")
    with st.expander(f"All {len(table)} insights"):
        _insight_table(table, ctx, key="insights_all")


def _insight_table(table: pd.DataFrame, ctx: Context, *, key: str) -> None:
    links = ctx.view.product_links(table["product"], table["name"])
    statuses = [
        before if before == after else f"{before} → {after}"
        for before, after in zip(
            table["status_before"], table["status_after"], strict=True
        )
    ]
    frame = pd.DataFrame(
        {
            "rank": range(1, len(table) + 1),
            "product": links,
            "gain": table["gain"].to_numpy(),
            "evidence": table["evidence"].to_numpy(),
            "action": table["action"].to_numpy(),
            "target": table["target_note"].to_numpy(),
            "status": statuses,
            "tier": table["tier"].to_numpy(),
            "priority": table["priority"].to_numpy(),
        }
    )
    config = {
        "rank": st.column_config.NumberColumn("#", width="small", pinned=True),
        "product": st.column_config.LinkColumn(
            "Product", display_text=r"#(.+)$", pinned=True
        ),
        "gain": st.column_config.NumberColumn(
            "Points gained", format="+%.1f", help="Overall points for this product"
        ),
        "evidence": st.column_config.TextColumn("Evidence", width="large"),
        "action": st.column_config.TextColumn("Action", width="large"),
        "target": st.column_config.TextColumn("Target"),
        "status": st.column_config.TextColumn("Status after"),
        "tier": st.column_config.NumberColumn("Tier", width="small"),
        "priority": st.column_config.NumberColumn(
            "Ranking points",
            format="%.1f",
            help="Points gained, tier-1 products weighted",
        ),
    }
    st.dataframe(frame, hide_index=True, column_config=config, key=key)


def what_if_panel(ctx: Context, slug: str) -> None:
    """Pick a metric and a target; see the dimension, overall and status it gives."""
    st.subheader("What if", anchor=False)
    values = snapshot.metric_values(ctx.snapshot, slug)
    if all(v is None for v in values.values()):
        st.info(
            "This product has no metric values today, so there is nothing to re-score."
        )
        return
    table = ranked_insights(ctx, [slug])
    default = str(table["metric"].iloc[0]) if not table.empty else METRIC_NAMES[0]
    name = st.selectbox(
        "Metric",
        list(METRIC_NAMES),
        index=METRIC_NAMES.index(default),
        format_func=lambda n: (
            f"{DIMENSION_LABELS[METRICS_BY_NAME[n].dimension]}: {METRICS_BY_NAME[n].label}"
        ),
        key=f"what_if_metric_{slug}",
    )
    metric = apply_overrides(METRICS_BY_NAME[name], ctx.snapshot.overrides.get(slug))
    current = values[name]
    value = _target_input(metric, current, key=f"what_if_value_{slug}_{name}")

    result = insights.what_if(ctx.snapshot, slug, ctx.view.weights, name, value)
    left, middle, right = st.columns(3)
    left.metric(
        DIMENSION_LABELS[result.dimension],
        _score(result.dimension_after),
        delta=_delta(result.dimension_before, result.dimension_after),
    )
    middle.metric(
        "Overall",
        _score(result.overall_after),
        delta=_delta(result.overall_before, result.overall_after),
    )
    right.metric(
        "Status",
        result.status_after,
        delta=None
        if result.status_after == result.status_before
        else f"was {result.status_before}",
        delta_color="off",
    )
    st.caption(
        f"Now {insights.format_value(metric, current)}; good anchor {_good_text(metric)}. "
        "Everything else stays as measured; the weights are those in the sidebar."
    )


def _target_input(metric: Metric, current: object, *, key: str) -> object:
    target = insights.target_for(metric, current)
    if metric.kind == "gate":
        gate = str(target.value) if target else str(current or "OK")
        index = _GATES.index(gate) if gate in _GATES else 0
        return st.selectbox("Target", _GATES, index=index, key=key)
    if metric.kind == "rating":
        rating = int(target.value) if target else int(round(float(current or 1)))  # type: ignore[arg-type]
        chosen = st.select_slider(
            "Target",
            options=[1, 2, 3, 4, 5],
            value=rating,
            key=key,
            format_func=lambda r: insights.RATING_LETTERS[r],
        )
        return float(chosen)
    fallback = current if current is not None else metric.good
    start = float(target.value) if target else float(fallback)  # type: ignore[arg-type]
    return st.number_input(
        f"Target ({metric.unit})", value=start, key=key, format="%.4g"
    )


def _good_text(metric: Metric) -> str:
    good = {"gate": "OK", "rating": 1.0}.get(metric.kind, metric.good)
    return insights.format_value(metric, good)


def missing_data_section(ctx: Context, slugs: Sequence[str]) -> None:
    """What is not measured, the weight it leaves uncovered, and what to configure."""
    frame = insights.missing_data(
        ctx.snapshot, ctx.view.weights, slugs, details=details(ctx.snapshot)
    )
    if frame.empty:
        st.success(
            "Every product shown measures every metric.", icon=":material/check_circle:"
        )
        return
    uncovered = frame.groupby("product")["uncovered_weight"].sum()
    st.caption(
        f"{(uncovered > 0).sum()} of {len(slugs)} products have part of their weight "
        "without data. Missing data is left out of the score, never counted as 0; "
        "uncovered weight is the share of the product's overall weight (under the "
        "sidebar's weights) that the gap leaves unmeasured."
    )
    shown = pd.DataFrame(
        {
            "product": frame["name"],
            "link": ctx.view.product_links(frame["product"]),
            "source": frame["source"].map(insights.SOURCE_LABELS),
            "missing": frame["missing"],
            "kind": frame["kind"],
            "uncovered": frame["uncovered_weight"] * 100,
            "fix": frame["fix"],
        }
    )
    # Any: config and plain labels mixed would be inferred as Collection[str].
    config: dict[str, Any] = {
        "product": st.column_config.TextColumn("Product", pinned=True),
        "link": st.column_config.LinkColumn("Link", display_text="Open"),
        "source": "Source",
        "missing": st.column_config.TextColumn("What is not measured", width="large"),
        "kind": "Kind",
        "uncovered": st.column_config.NumberColumn("Uncovered weight", format="%.1f%%"),
        "fix": st.column_config.TextColumn("How to fix", width="large"),
    }
    st.dataframe(shown, hide_index=True, column_config=config, key="missing_data")


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _delta(before: float | None, after: float | None) -> str | None:
    if before is None or after is None:
        return None
    return f"{after - before:+.1f}"
