"""The Streamlit entry point: shared frame, then the page the URL names."""

from __future__ import annotations

import logging

import streamlit as st
from dotenv import load_dotenv

from reliability.ui import frame

load_dotenv()
logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
st.set_page_config(
    page_title="Reliability", page_icon=":material/monitor_heart:", layout="wide"
)

PAGES = [
    st.Page(
        "app_pages/overview.py",
        title="Portfolio",
        icon=":material/dashboard:",
        url_path="overview",
        default=True,
    ),
    st.Page(
        "app_pages/product.py",
        title="Product",
        icon=":material/troubleshoot:",
        url_path="product",
    ),
    st.Page(
        "app_pages/trends.py",
        title="Trends",
        icon=":material/trending_up:",
        url_path="trends",
    ),
    st.Page(
        "app_pages/insights.py",
        title="Insights",
        icon=":material/lightbulb:",
        url_path="insights",
    ),
    st.Page(
        "app_pages/sources.py",
        title="Data sources",
        icon=":material/database:",
        url_path="sources",
    ),
]

page = st.navigation(PAGES)
if frame.render() is not None:
    page.run()
