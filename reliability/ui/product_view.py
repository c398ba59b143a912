"""The sections of a product's page: picker, score, why and trend.

The evidence sections live in ``reliability.ui.evidence_view``.

Text that comes from a source (issue titles, ticket summaries, product names)
goes into dataframes, which show it as text, or through ``escape_markdown``;
never raw into Markdown.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import streamlit as st

from reliability import evidence, snapshot
from reliability.scoring import DIMENSION_LABELS, DIMENSIONS, NO_DATA
from reliability.ui import charts
from reliability.ui.frame import Context
from reliability.ui.widgets import STATUS_BADGES

PRODUCT_PAGE = "app_pages/product.py"
RATING_LETTERS = {1: "A", 2: "B", 3: "C", 4: "D", 5: "E"}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$])")


def escape_markdown(text: str) -> str:
    """Backslash every Markdown (and Streamlit directive) character in ``text``."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


# -- picking a product ------------------------------------------------------------


def picker(ctx: Context) -> None:
    """A select box of every product; choosing one puts it in the URL."""
    products = ctx.table.sort_values("name")
    names = dict(zip(products["slug"], products["name"], strict=True))
    if st.session_state.get("product_picker") != ctx.view.product:
        st.session_state["product_picker"] = ctx.view.product
    st.selectbox(
        "Product",
        [None, *names],
        key="product_picker",
        on_change=_pick,
        format_func=lambda slug: "Choose a product…" if slug is None else names[slug],
        label_visibility="collapsed",
        width=320,
    )


def _pick() -> None:
    slug = st.session_state.get("product_picker")
    if slug:
        st.query_params["product"] = slug
    else:
        st.query_params.pop("product", None)


# -- the score --------------------------------------------------------------------


def score_header(ctx: Context, row: pd.Series) -> None:
    """Title, then overall, status, coverage, freshness, changes and forecast."""
    st.title(escape_markdown(str(row["name"])))
    st.caption(
        f"{escape_markdown(str(row['team']))} · tier {int(row['tier'])} · "
        f"scores as of the end of {ctx.snapshot.as_of:%A %d %B %Y} (UTC)"
    )
    has_score = pd.notna(row["overall"])
    columns = st.columns(6)
    columns[0].metric(
        "Overall",
        _number(row["overall"]),
        border=True,
        help="Weighted mean of the dimensions with data, under the sidebar weights",
    )
    columns[1].metric(
        "Status", STATUS_BADGES.get(row["status"], row["status"]), border=True
    )
    columns[2].metric(
        "Coverage",
        f"{row['coverage'] * 100:.0f} %",
        border=True,
        help="Share of the weight that had data"
        + ("; below 50 % the score is low confidence" if row["low_confidence"] else ""),
    )
    columns[3].metric("Change, 7 days", _signed(row["delta_7d"]), border=True)
    columns[4].metric("Change, 30 days", _signed(row["delta_30d"]), border=True)
    forecast = row["forecast_14d"]
    columns[5].metric(
        "Forecast, 14 days",
        _number(forecast),
        border=True,
        delta=None if pd.isna(forecast) else str(row["forecast_status"]),
        delta_color="red" if row["at_risk"] else "off",
        delta_arrow="off",
        help="A straight line through the last 30 daily scores, 14 days ahead",
    )
    st.caption(
        _freshness(row["last_sync"])
        + ("" if has_score else " · No data: no source has delivered anything yet.")
    )


def _freshness(last_sync: object) -> str:
    if last_sync is None or pd.isna(last_sync):
        return "Never synced"
    stamp = pd.Timestamp(last_sync)
    return f"Data from {stamp:%d %b %Y %H:%M} UTC"


def _number(value: float | None, digits: int = 1) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value):.{digits}f}"


def _signed(value: float | None) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value):+.1f}"


# -- why this score ---------------------------------------------------------------


def why(ctx: Context, slug: str) -> None:
    """Per dimension, every metric with its value, anchors, sub-score and cost."""
    frame = evidence.breakdown(ctx.snapshot, slug, ctx.view.weights)
    today = ctx.snapshot.today()
    st.subheader("Why this score")
    st.caption(
        "Points lost: how far each metric pulls the overall below 100 under the "
        "current weights. They add up to 100 minus the overall."
    )
    columns = st.columns(len(DIMENSIONS))
    for column, dim in zip(columns, DIMENSIONS, strict=True):
        part = frame[frame["dimension"] == dim]
        score = today.at[slug, dim] if slug in today.index else np.nan
        share = part["share"].sum()
        column.metric(
            DIMENSION_LABELS[dim],
            _number(score),
            border=True,
            delta=(
                f"−{part['points_lost'].sum():.1f} points, {share * 100:.0f} % of overall"
                if share > 0
                else "not counted: no data"
            ),
            delta_color="off",
            delta_arrow="off",
        )
    st.dataframe(
        why_frame(frame),
        hide_index=True,
        width="stretch",
        height=36 * (len(frame) + 1) + 3,
        column_config=_WHY_COLUMNS,
    )


_WHY_COLUMNS = {
    "dimension": st.column_config.TextColumn("Dimension", width=110),
    "metric": st.column_config.TextColumn("Metric", width=290),
    "value": st.column_config.TextColumn("Value"),
    "good": st.column_config.TextColumn(
        "Good", help="At or beyond this the sub-score is 100"
    ),
    "bad": st.column_config.TextColumn(
        "Bad", help="At or beyond this the sub-score is 0"
    ),
    "sub": st.column_config.ProgressColumn(
        "Sub-score", format="%.0f", min_value=0, max_value=100, width=150
    ),
    "weight": st.column_config.NumberColumn(
        "Weight", format="%.0f", help="The metric's weight within its dimension"
    ),
    "points_lost": st.column_config.NumberColumn("Points lost", format="%.2f"),
    "note": st.column_config.TextColumn("What is missing", width="large"),
}


def why_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The breakdown as the page shows it: values and anchors in their units."""
    rows = list(
        frame[["metric", "unit", "kind", "value", "good", "bad"]].itertuples(
            index=False
        )
    )
    return pd.DataFrame(
        {
            "dimension": frame["dimension"].map(DIMENSION_LABELS),
            "metric": frame["label"],
            "value": [
                "missing" if pd.isna(r.value) else _cell(r, r.value) for r in rows
            ],
            "good": [_anchor(r, "good") for r in rows],
            "bad": [_anchor(r, "bad") for r in rows],
            "sub": frame["sub"],
            "weight": frame["weight"],
            "points_lost": frame["points_lost"].where(frame["sub"].notna()),
            "note": frame["missing_reason"].fillna(""),
        }
    )


def format_value(
    value: object, unit: str, kind: str = "linear", digits: int = 1
) -> str:
    """A metric value in its unit: "99.52 %", "60 %" for a ratio, "B", "3 issues"."""
    if kind == "gate":
        return str(value)
    number = float(value)  # type: ignore[arg-type]
    if kind == "rating":
        return RATING_LETTERS.get(int(round(number)), f"{number:g}")
    if unit == "ratio":
        return f"{number * 100:.0f} %"
    if unit == "%":
        return f"{number:.{digits}f} %"
    if unit in ("issues", "tickets"):
        return f"{number:.0f} {unit}"
    if unit == "ms":
        return f"{number:,.0f} ms"
    return f"{number:.{digits}f} {unit}"


def _cell(row: tuple, value: object) -> str:
    # Crash-free sessions live between 98 and 100 %: two decimals tell them apart.
    digits = 2 if row.metric == "crash_free_sessions" else 1  # type: ignore[attr-defined]
    return format_value(value, row.unit, row.kind, digits)  # type: ignore[attr-defined]


def _anchor(row: tuple, end: str) -> str:
    kind = row.kind  # type: ignore[attr-defined]
    if kind == "gate":
        return "OK" if end == "good" else "ERROR"
    if kind == "rating":
        return "A" if end == "good" else "E"
    return _cell(row, getattr(row, end))


# -- trend ------------------------------------------------------------------------


def trend(ctx: Context, slug: str) -> None:
    """Overall and dimension scores over the sidebar's window, status changes marked."""
    daily = product_daily(ctx, slug)
    st.subheader(f"Last {ctx.view.window} days")
    if daily["score"].notna().sum() == 0:
        st.info("No scores in this window.", icon=":material/show_chart:")
        return
    chart = charts.score_lines(daily, status_changes(ctx, slug), emphasise="Overall")
    st.altair_chart(chart, width="stretch")
    st.caption(
        "Bands: Healthy from 80, Warning from 60, Critical below. "
        "Diamonds mark the days the status changed."
    )


def window_start(ctx: Context) -> dt.date:
    """The first day of the sidebar's window, counting the as-of day as its last."""
    return ctx.snapshot.as_of - dt.timedelta(days=ctx.view.window - 1)


def product_daily(ctx: Context, slug: str) -> pd.DataFrame:
    """Long frame of ``day``, ``series`` and ``score`` for the overall and dimensions."""
    overall = _overall_daily(ctx, slug)
    dims = ctx.snapshot.dimensions
    dims = dims[(dims["product"] == slug) & (dims["day"] >= window_start(ctx))]
    wide = pd.DataFrame(
        {"day": overall["day"].to_numpy(), "Overall": overall["overall"].to_numpy()}
    )
    for dim in DIMENSIONS:
        wide[DIMENSION_LABELS[dim]] = dims[dim].to_numpy()
    return wide.melt(id_vars="day", var_name="series", value_name="score").dropna(
        subset=["score"]
    )


def _overall_daily(ctx: Context, slug: str) -> pd.DataFrame:
    daily = snapshot.rescore(ctx.snapshot, ctx.view.weights)
    keep = (daily["product"] == slug) & (daily["day"] >= window_start(ctx))
    return daily[keep].sort_values("day")


def status_changes(ctx: Context, slug: str) -> pd.DataFrame:
    """Days in the window whose status differs from the day before."""
    daily = _overall_daily(ctx, slug)
    previous = daily["status"].shift()
    changed = (daily["status"] != previous) & previous.notna()
    changed &= (daily["status"] != NO_DATA) & (previous != NO_DATA)
    rows = daily[changed]
    return pd.DataFrame(
        {
            "day": rows["day"],
            "score": rows["overall"],
            "change": previous[changed] + " → " + rows["status"],
        }
    )
