"""Portfolio overview: which products are in trouble, and what changed."""

import streamlit as st

from reliability.ui import frame, widgets

ctx = frame.context()
st.title("Portfolio")
widgets.as_of_caption(ctx.snapshot)

widgets.headline(ctx.shown)
st.divider()

if ctx.shown.empty:
    st.info("No product matches the filters.", icon=":material/filter_alt_off:")
else:
    widgets.portfolio_table(ctx.shown, ctx.view)
    widgets.csv_download(ctx.shown)
