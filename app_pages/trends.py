"""Trends: where the portfolio is heading, who moved most, who is at risk."""

import streamlit as st

from reliability.ui import frame, trends_view, widgets

ctx = frame.context()
st.title("Trends")
widgets.as_of_caption(ctx.snapshot)

if ctx.shown.empty:
    st.info("No product matches the filters.", icon=":material/filter_alt_off:")
    st.stop()

trends_view.portfolio_trend(ctx)
st.subheader("Biggest movers")
trends_view.movers(ctx, "delta_7d", "7 days")
trends_view.movers(ctx, "delta_30d", "30 days")
trends_view.at_risk(ctx)
st.caption("Select a row to open the product.")
