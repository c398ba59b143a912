"""Cached reads of the store for the pages.

The snapshot (products, 90 days of metrics and dimension scores) is read once per
version of the data file and shared by every session through ``cache_resource``:
it is read-only, so sharing is safe and costs one copy of memory, not one per
visitor. A sync swaps in a new file, which changes the version and so the key.
Re-scoring under new weights is cheap and cached per weights.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

from reliability import snapshot
from reliability.config import Portfolio, config_path_from_env, load_portfolio
from reliability.scoring import DIMENSIONS
from reliability.snapshot import Snapshot
from reliability.store import Store, StoreError, StoreVersion
from reliability.ui.state import SORTS, View


def store() -> Store:
    return Store.from_env()


def config_stamp() -> tuple[str, int]:
    """Identify the portfolio file's current content (path, mtime)."""
    path = config_path_from_env()
    try:
        return str(path), path.stat().st_mtime_ns
    except OSError:
        return str(path), 0


@st.cache_resource(max_entries=4, show_spinner=False)
def _portfolio(stamp: tuple[str, int]) -> Portfolio | None:
    return load_portfolio()


def portfolio() -> Portfolio | None:
    """The validated portfolio file, or None; raises ConfigError when broken."""
    return _portfolio(config_stamp())


@st.cache_resource(max_entries=2, show_spinner="Reading the data file…")
def _snapshot(
    version: StoreVersion, stamp: tuple[str, int], _portfolio: Portfolio | None
) -> Snapshot:
    return snapshot.load_snapshot(Store(version.path), _portfolio)


def load(portfolio_: Portfolio | None) -> Snapshot:
    """The current snapshot; raises StoreError when there is no usable file."""
    current = store()
    version = current.version()
    if version is None:
        raise StoreError(
            f"No data file at {current.path}: run `make demo` for the demo "
            "portfolio or `python -m reliability sync` for your own"
        )
    stamp = config_stamp() if portfolio_ is not None else ("", 0)
    return _snapshot(version, stamp, portfolio_)


@st.cache_resource(max_entries=32, show_spinner=False)
def _summary(
    version: StoreVersion | None,
    overrides: str,
    weights: tuple[float, ...],
    _snap: Snapshot,
) -> pd.DataFrame:
    return snapshot.summary(_snap, dict(zip(DIMENSIONS, weights, strict=True)))


def summary(snap: Snapshot, weights: Mapping[str, float]) -> pd.DataFrame:
    """Today's scores per product under ``weights``, ranked; shared, do not mutate.

    The key is what the snapshot was made from: the data file and the overrides.
    """
    key = tuple(float(weights[d]) for d in DIMENSIONS)
    return _summary(snap.version, repr(sorted(snap.overrides.items())), key, snap)


def filter_summary(table: pd.DataFrame, view: View) -> pd.DataFrame:
    """The rows of ``table`` that the view's filters keep."""
    keep = pd.Series(True, index=table.index)
    if view.teams:
        keep &= table["team"].isin(view.teams)
    if view.tiers:
        keep &= table["tier"].isin(view.tiers)
    if view.statuses:
        keep &= table["status"].isin(view.statuses)
    if view.search:
        needle = view.search.casefold()
        keep &= table["name"].str.casefold().str.contains(needle, regex=False) | table[
            "slug"
        ].str.contains(needle, regex=False)
    _, column, ascending = SORTS[view.sort]
    kept = table[keep]
    return kept.sort_values(
        [column, "rank"], ascending=[ascending, True], na_position="last"
    )
