"""Product deep dive: the score, why it is what it is, its trend and evidence."""

import streamlit as st

from reliability.ui import evidence_view, frame, insight_view, product_view

ctx = frame.context()
product_view.picker(ctx)

if ctx.view.product is None:
    st.title("Product")
    st.info(
        "Choose a product above, or select one on the Portfolio page.",
        icon=":material/troubleshoot:",
    )
    st.stop()

slug = ctx.view.product
row = ctx.table.set_index("slug", drop=False).loc[slug]
product_view.score_header(ctx, row)
st.divider()
product_view.why(ctx, slug)
product_view.trend(ctx, slug)

st.header("Evidence")
evidence_view.sentry_issues(ctx, row)
evidence_view.jira_tickets(ctx, row)
evidence_view.sonar(ctx, row)
evidence_view.availability(ctx, row)

st.divider()
insight_view.what_if_panel(ctx, slug)
