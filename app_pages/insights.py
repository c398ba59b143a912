"""Insights: what needs attention and why, ranked by the overall points a fix gains."""

import streamlit as st

from reliability.ui import frame, insight_view, widgets

ctx = frame.context()
st.title("Insights")
widgets.as_of_caption(ctx.snapshot)

product = insight_view.product_filter(ctx)
slugs = [product] if product else list(ctx.shown["slug"])

if not slugs:
    st.info("No product matches the filters.", icon=":material/filter_alt_off:")
else:
    st.header("What needs attention", anchor=False)
    insight_view.insights_section(ctx, slugs)
    if product:
        insight_view.what_if_panel(ctx, product)

    st.divider()
    st.header("Missing data", anchor=False)
    insight_view.missing_data_section(ctx, slugs)
