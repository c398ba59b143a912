"""The Streamlit face of the package: URL state, cached data, shared widgets.

This is the only part of ``reliability`` that imports Streamlit; pages call it so
that a page file reads as a description of what the page shows.
"""
