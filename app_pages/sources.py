"""Data sources: when each source last delivered, what failed, what is covered."""

import streamlit as st

from reliability.ui import frame, sources_view

ctx = frame.context()
st.title("Data sources")
st.caption(
    "Each sync records one run per source and product. A failed run keeps the "
    "last good data; the error says what to fix."
)

status = sources_view.load_status(ctx.snapshot)
sources_view.freshness_cards(status)
sources_view.sync_now(ctx)

st.subheader("Coverage")
sources_view.coverage_table(ctx.snapshot)

st.subheader("Per source and product")
sources_view.status_table(status)

with st.expander("Recent runs"):
    sources_view.runs_table(ctx.snapshot)
