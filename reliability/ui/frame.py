"""What every page shares: the data, the sidebar, the URL and the notices.

``render`` runs in ``app.py`` before the page. It loads the snapshot, turns the
URL into a ``View`` (once per session, or whenever the URL changes under us),
draws the sidebar widgets from it, and writes the resulting view back to the URL
so that the address bar is always a link to what is shown. Pages then call
``context()`` to get the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from reliability.config import ConfigError, Portfolio
from reliability.scoring import DEFAULT_WEIGHTS, DIMENSION_LABELS, DIMENSIONS, STATUSES
from reliability.snapshot import Snapshot
from reliability.store import StoreError
from reliability.ui import data
from reliability.ui.state import SORTS, WINDOWS, View, read_view

_WEIGHT_KEYS = {dim: f"weight_{dim}" for dim in DIMENSIONS}
_CONTEXT_KEY = "_frame_context"
_LAST_URL_KEY = "_frame_last_url"


@dataclass(frozen=True, kw_only=True)
class Context:
    """What a page needs: the data, today's scores under the chosen weights, the view."""

    snapshot: Snapshot
    portfolio: Portfolio | None
    view: View
    table: pd.DataFrame  # every product, scored and ranked under view.weights
    shown: pd.DataFrame  # the rows the filters keep


def render() -> Context | None:
    """Draw the shared frame; None when there is no data to show (already said)."""
    portfolio = _portfolio_or_notice()
    try:
        snap = data.load(portfolio)
    except StoreError as exc:
        st.error(str(exc), icon=":material/database:")
        return None

    products = snap.products
    url_view, notices = read_view(
        dict(st.query_params),
        teams=products["team"].unique(),
        tiers=products["tier"].unique(),
        products=products["slug"],
    )
    _adopt_url(url_view)
    # The share button goes above the widgets, where it is seen, but it needs
    # the view they make: keep its place, fill it after.
    share_slot = st.sidebar.container()
    view = _sidebar(snap, url_view.product)
    _write_url(view)
    _share_link(view, share_slot)
    for notice in notices:
        st.warning(notice, icon=":material/link_off:")
    if snap.is_demo:
        st.info(
            "You are looking at the built-in demo portfolio. Write "
            "`data/portfolio.toml`, put tokens in `.env` and run "
            "`python -m reliability sync` to see your own products.",
            icon=":material/science:",
        )

    table = data.summary(snap, view.weights)
    context = Context(
        snapshot=snap,
        portfolio=portfolio,
        view=view,
        table=table,
        shown=data.filter_summary(table, view),
    )
    st.session_state[_CONTEXT_KEY] = context
    return context


def context() -> Context:
    """The context the frame made for this run."""
    return st.session_state[_CONTEXT_KEY]


def _portfolio_or_notice() -> Portfolio | None:
    try:
        return data.portfolio()
    except ConfigError as exc:
        st.error(
            f"The portfolio file cannot be used, so per-product settings are "
            f"ignored until it is fixed. {exc}",
            icon=":material/error:",
        )
        return None


def _adopt_url(view: View) -> None:
    """Set the widgets from the URL at the start of a session or after a new link."""
    params = dict(st.query_params)
    params.pop("product", None)
    if (
        st.session_state.get(_LAST_URL_KEY) == params
        and _WEIGHT_KEYS["runtime"] in st.session_state
    ):
        return
    if _WEIGHT_KEYS["runtime"] in st.session_state and not params:
        # A page switch clears the URL; the widgets still hold the view.
        return
    for dim, key in _WEIGHT_KEYS.items():
        st.session_state[key] = int(round(view.weights[dim]))
    st.session_state["filter_teams"] = list(view.teams)
    st.session_state["filter_tiers"] = list(view.tiers)
    st.session_state["filter_statuses"] = list(view.statuses)
    st.session_state["filter_search"] = view.search
    st.session_state["window"] = view.window
    st.session_state["sort"] = view.sort


def _reset_weights() -> None:
    for dim, key in _WEIGHT_KEYS.items():
        st.session_state[key] = int(DEFAULT_WEIGHTS[dim])


def _sidebar(snap: Snapshot, product: str | None) -> View:
    products = snap.products
    with st.sidebar:
        st.subheader("Weights")
        weights = {
            dim: float(st.slider(DIMENSION_LABELS[dim], 0, 100, step=5, key=key))
            for dim, key in _WEIGHT_KEYS.items()
        }
        if sum(weights.values()) == 0:
            st.warning("All weights are 0; scoring with the defaults.")
            weights = dict(DEFAULT_WEIGHTS)
        st.button("Reset weights", on_click=_reset_weights, width="stretch")

        st.subheader("Filters")
        teams = st.multiselect(
            "Team", sorted(products["team"].unique()), key="filter_teams"
        )
        tiers = st.multiselect(
            "Tier",
            sorted(int(t) for t in products["tier"].unique()),
            key="filter_tiers",
        )
        statuses = st.multiselect("Status", list(STATUSES), key="filter_statuses")
        search = st.text_input(
            "Search products", key="filter_search", placeholder="name"
        )
        window = st.select_slider(
            "Trend window (days)", options=list(WINDOWS), key="window"
        )
        sort = st.selectbox(
            "Order", list(SORTS), format_func=lambda k: SORTS[k][0], key="sort"
        )
    return View(
        weights=weights,
        teams=tuple(teams),
        tiers=tuple(tiers),
        statuses=tuple(statuses),
        search=search.strip(),
        product=product,
        window=int(window),
        sort=sort,
    )


def _share_link(view: View, slot: DeltaGenerator) -> None:
    """Show the full address of what is shown, with a copy button (st.code has one).

    Inside a popover, whose content the browser draws only when opened: the code
    element's 1.5 MB highlighter then no longer delays a new visitor's first
    paint (1.82 s -> 1.55 s at 500 products, #7).
    """
    with slot, st.popover("Share this view", icon=":material/link:", width="stretch"):
        # st.context.url has no query string, and is None outside a browser session.
        st.code(view.link(st.context.url or ""), language=None, wrap_lines=True)
        st.caption("Opens this page as shown: product, weights, filters and order.")


def _write_url(view: View) -> None:
    wanted = view.query_params()
    current = dict(st.query_params)
    if current != wanted:
        st.query_params.from_dict(wanted)
    wanted.pop("product", None)
    st.session_state[_LAST_URL_KEY] = wanted
