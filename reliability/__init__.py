"""Product reliability dashboard: sources, store, metrics, scores.

Nothing in this package outside ``reliability.ui`` imports Streamlit.
"""

__version__ = "0.1.0"
