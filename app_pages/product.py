"""Product deep dive (a first cut: name and status)."""

import streamlit as st

from reliability.ui import frame

ctx = frame.context()
slug = ctx.view.product
if slug is None:
    st.title("Product")
    st.write("Pick a product on the portfolio page.")
else:
    row = ctx.table[ctx.table["slug"] == slug].iloc[0]
    st.title(row["name"])
    st.text(f"Status: {row['status']}")
