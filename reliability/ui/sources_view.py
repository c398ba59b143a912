"""Pieces of the Data sources page."""

from __future__ import annotations

import os

import pandas as pd
import streamlit as st

from reliability import runs
from reliability.scoring import DIMENSION_LABELS, DIMENSION_SOURCES, DIMENSIONS
from reliability.snapshot import Snapshot
from reliability.ui import data
from reliability.ui.frame import Context

SOURCE_LABELS = {
    "sentry": "Sentry",
    "sonar": "SonarCloud",
    "jira": "Jira",
    "azure": "Azure Monitor",
}
# Running a sync from the page is off unless the operator allows it.
ALLOW_SYNC_ENV = "RELIABILITY_ALLOW_SYNC_FROM_APP"


@st.cache_data(ttl=300, max_entries=4, show_spinner=False)
def _status(version: object) -> pd.DataFrame:
    return runs.source_status(data.store())


def load_status(snap: Snapshot) -> pd.DataFrame:
    return _status(snap.version)


def freshness_cards(status: pd.DataFrame) -> None:
    fresh = runs.freshness(status).set_index("source")
    columns = st.columns(len(SOURCE_LABELS))
    now = pd.Timestamp.now(tz="UTC").tz_localize(None)
    for column, (source, label) in zip(columns, SOURCE_LABELS.items(), strict=True):
        if source not in fresh.index or pd.isna(fresh.at[source, "newest"]):
            column.metric(label, "never", help="No successful pull yet")
            continue
        row = fresh.loc[source]
        age = _age(now - row["oldest"])
        failing = int(row["failing"])
        column.metric(
            label,
            f"{age} old",
            delta=f"{failing} failing" if failing else "all ok",
            delta_color="red" if failing else "green",
            delta_arrow="off",
            help=f"{int(row['products'])} products; the stalest one was last "
            f"pulled {age} ago",
        )


def _age(delta: pd.Timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours < 1:
        return f"{max(delta.total_seconds() / 60, 0):.0f} min"
    if hours < 48:
        return f"{hours:.0f} h"
    return f"{hours / 24:.0f} days"


def coverage_table(snap: Snapshot) -> None:
    matrix = runs.coverage_matrix(snap)
    frame = pd.DataFrame({"product": matrix["name"]})
    for dim in DIMENSIONS:
        frame[dim] = matrix[dim] * 100
    config = {
        "product": st.column_config.TextColumn("Product", pinned=True),
        **{
            dim: st.column_config.ProgressColumn(
                f"{DIMENSION_LABELS[dim]} ({SOURCE_LABELS[DIMENSION_SOURCES[dim]]})",
                format="%.0f%%",
                min_value=0,
                max_value=100,
            )
            for dim in DIMENSIONS
        },
    }
    st.dataframe(
        frame, hide_index=True, column_config=config, placeholder="not configured"
    )
    st.caption(
        "Share of each dimension's weight that has data today; an empty cell is a "
        "source the product does not configure. The Insights page says what to "
        "configure for each gap."
    )


def status_table(status: pd.DataFrame) -> None:
    if status.empty:
        st.info("No sync has run yet.")
        return
    shown = status.assign(source=status["source"].map(SOURCE_LABELS))
    st.dataframe(
        shown[
            [
                "source",
                "product",
                "last_success",
                "last_result",
                "last_error",
                "rows",
                "runs",
                "failures",
            ]
        ],
        hide_index=True,
        column_config={
            "source": "Source",
            "product": "Product",
            "last_success": st.column_config.DatetimeColumn(
                "Last success", format="distance"
            ),
            "last_result": "Last result",
            "last_error": st.column_config.TextColumn("Last error", width="large"),
            "rows": st.column_config.NumberColumn("Rows held", format="%d"),
            "runs": "Runs",
            "failures": "Failures",
        },
        placeholder="–",
    )


def runs_table(snap: Snapshot) -> None:
    st.dataframe(runs.recent_runs(data.store()), hide_index=True, placeholder="–")


def sync_now(ctx: Context) -> None:
    """A button that runs a sync in the app, where the operator allows it."""
    if os.environ.get(ALLOW_SYNC_ENV) != "1":
        st.caption(
            f"Syncs run from the command line (`python -m reliability sync`); set "
            f"`{ALLOW_SYNC_ENV}=1` to allow a sync from this page."
        )
        return
    if ctx.portfolio is None:
        st.caption("Write a portfolio file to sync your own products.")
        return
    if not st.button("Sync now", icon=":material/sync:"):
        return

    from reliability.sync import run_sync

    with st.status("Syncing…", expanded=True) as box:
        bar = st.progress(0.0)
        total = sum(len(p.sources) for p in ctx.portfolio.products) or 1
        finished = []

        def progress(source: str, product: str, result: object) -> None:
            if result is None:
                box.update(label=f"Pulling {source} for {product}…")
                return
            finished.append(result)
            bar.progress(min(len(finished) / total, 1.0))
            st.text(f"{source} {product}: {getattr(result, 'result', '')}")

        results = run_sync(data.store(), ctx.portfolio, progress=progress)
        failed = [r for r in results if r.result == "failed"]
        box.update(
            label=f"Synced: {len(results) - len(failed)} ok, {len(failed)} failed",
            state="error" if failed else "complete",
        )
