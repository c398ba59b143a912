"""The sections of the Trends page: the portfolio's course, movers, products at risk.

Product names go into dataframes (as link text), never raw into Markdown.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from reliability import snapshot, trends
from reliability.ui import charts
from reliability.ui.frame import Context
from reliability.ui.product_view import PRODUCT_PAGE, window_start


def portfolio_trend(ctx: Context) -> None:
    """The mean score of the products shown per day, and one line per team."""
    daily = snapshot.rescore(ctx.snapshot, ctx.view.weights)
    daily = daily[
        daily["product"].isin(ctx.shown["slug"]) & (daily["day"] >= window_start(ctx))
    ]
    teams = ctx.snapshot.products.set_index("slug")["team"]
    daily = daily.assign(team=daily["product"].map(teams))

    overall = trends.portfolio_mean(daily).assign(series="Portfolio")
    per_team = trends.portfolio_mean(daily, by="team").rename(
        columns={"team": "series"}
    )
    long = pd.concat([overall, per_team], ignore_index=True).rename(
        columns={"overall": "score"}
    )
    st.subheader(f"Mean score, last {ctx.view.window} days")
    st.altair_chart(charts.score_lines(long, emphasise="Portfolio"), width="stretch")
    st.caption(
        "The portfolio line is the mean over the products the filters keep; "
        "products with no data are left out, not counted as 0."
    )


def movers(ctx: Context, column: str, label: str, count: int = 5) -> None:
    """The biggest improvers and decliners by ``column`` (a delta)."""
    # Changes that round to 0.0 are noise, not movement.
    moved = ctx.shown[ctx.shown[column].abs() >= 0.05]
    improvers = (
        moved[moved[column] > 0].sort_values(column, ascending=False).head(count)
    )
    decliners = moved[moved[column] < 0].sort_values(column).head(count)
    left, right = st.columns(2)
    with left:
        st.markdown(f"**Improved most, {label}**")
        product_table(ctx, improvers, {column: "Change"}, key=f"improvers_{column}")
    with right:
        st.markdown(f"**Declined most, {label}**")
        product_table(ctx, decliners, {column: "Change"}, key=f"decliners_{column}")


def at_risk(ctx: Context) -> None:
    """Products whose 14-day forecast falls into a worse band than today's."""
    risky = ctx.shown[ctx.shown["at_risk"].astype(bool)].sort_values("forecast_14d")
    st.subheader("Forecast to fall into a worse band within 14 days")
    if risky.empty:
        st.success(
            "No product is forecast to fall a band.", icon=":material/check_circle:"
        )
        return
    product_table(
        ctx,
        risky,
        {"forecast_14d": "Forecast", "forecast_status": "Forecast status"},
        key="at_risk",
    )


def product_table(
    ctx: Context, rows: pd.DataFrame, extra: dict[str, str], *, key: str
) -> None:
    """Products with a link each; selecting a row opens the product's page."""
    if rows.empty:
        st.caption("None.")
        return
    links = ctx.view.product_links(rows["slug"], rows["name"])
    frame = pd.DataFrame(
        {
            "product": links,
            "team": rows["team"],
            "overall": rows["overall"],
            "status": rows["status"],
            **{column: rows[column] for column in extra},
        }
    ).reset_index(drop=True)
    # Any: config and plain labels mixed would be inferred as Collection[str].
    config: dict[str, Any] = {
        "product": st.column_config.LinkColumn("Product", display_text=r"#(.+)$"),
        "team": "Team",
        "overall": st.column_config.NumberColumn("Overall", format="%.1f"),
        "status": "Status",
        **{column: _figure_column(column, label) for column, label in extra.items()},
    }
    event = st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config=config,
        on_select="rerun",
        selection_mode="single-row",
        key=key,
    )
    if event and event.selection.rows:
        slug = rows.iloc[event.selection.rows[0]]["slug"]
        st.switch_page(
            PRODUCT_PAGE, query_params={**ctx.view.query_params(), "product": slug}
        )


def _figure_column(column: str, label: str) -> object:
    if column.startswith("delta"):
        return st.column_config.NumberColumn(label, format="%+.1f")
    if column == "forecast_14d":
        return st.column_config.NumberColumn(label, format="%.1f")
    return st.column_config.TextColumn(label)
