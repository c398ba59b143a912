"""Page pieces that several pages share: captions, headline figures, tables."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from reliability.scoring import (
    CRITICAL,
    DIMENSION_LABELS,
    DIMENSIONS,
    HEALTHY,
    NO_DATA,
    WARNING,
)
from reliability.snapshot import Snapshot
from reliability.ui.state import PRODUCT_URL_PATH, View

# Markdown labels with a coloured dot; plain Unicode, so no emoji font is needed.
STATUS_BADGES = {
    HEALTHY: ":green[●] Healthy",
    WARNING: ":orange[●] Warning",
    CRITICAL: ":red[●] Critical",
    NO_DATA: ":gray[●] No data",
}
PRODUCT_PAGE = PRODUCT_URL_PATH


def as_of_caption(snap: Snapshot) -> None:
    synced = (
        f"last sync {snap.last_sync[:16].replace('T', ' ')} UTC"
        if snap.last_sync
        else "never synced"
    )
    st.caption(f"Scores as of the end of {snap.as_of:%A %d %B %Y} (UTC) · {synced}")


def headline(shown: pd.DataFrame) -> None:
    """Products per status, the portfolio mean and the biggest movers."""
    counts = shown["status"].value_counts()
    columns = st.columns(6)
    for column, status in zip(
        columns, (HEALTHY, WARNING, CRITICAL, NO_DATA), strict=False
    ):
        column.metric(STATUS_BADGES[status], int(counts.get(status, 0)))

    scored = shown[shown["overall"].notna()]
    mean = scored["overall"].mean() if not scored.empty else None
    mean_7d_ago = (
        (scored["overall"] - scored["delta_7d"]).mean() if not scored.empty else None
    )
    columns[4].metric(
        "Portfolio mean",
        "–" if mean is None else f"{mean:.1f}",
        delta=None
        if mean is None or pd.isna(mean_7d_ago)
        else f"{mean - mean_7d_ago:+.1f} in 7 days",
        help="Mean overall score of the products shown that have data.",
    )

    movers = scored.dropna(subset=["delta_7d"])
    with columns[5]:
        st.markdown("**Movers, 7 days**")
        if movers.empty:
            st.caption("No change to report.")
        for _, row in _movers(movers).iterrows():
            arrow = "▼" if row["delta_7d"] < 0 else "▲"
            st.text(f"{arrow} {row['name']} {row['delta_7d']:+.1f}")


def _movers(movers: pd.DataFrame) -> pd.DataFrame:
    """The biggest fall and the biggest rise, where either is half a point or more."""
    falls = movers[movers["delta_7d"] <= -0.5].nsmallest(1, "delta_7d")
    rises = movers[movers["delta_7d"] >= 0.5].nlargest(1, "delta_7d")
    return pd.concat([falls, rises])


LOW_CONFIDENCE = "low confidence"
# Pills for the status column, in this order; colours follow the bands.
STATUS_PILLS = (HEALTHY, WARNING, CRITICAL, NO_DATA, LOW_CONFIDENCE)
STATUS_PILL_COLOURS = ("green", "orange", "red", "gray", "blue")


def status_pills(status: str, is_low_confidence: bool) -> list[str]:
    return [status, LOW_CONFIDENCE] if is_low_confidence else [status]


def display_frame(shown: pd.DataFrame, view: View) -> pd.DataFrame:
    """The overview table's columns, in order, from a summary table.

    The product column holds a link to the product page; its text comes from the
    link's fragment, which the app never reads.
    """
    links = view.product_links(shown["slug"], shown["name"])
    frame = pd.DataFrame(
        {
            "rank": shown["rank"],
            "product": links,
            "team": shown["team"],
            "tier": shown["tier"],
            "overall": shown["overall"],
            "status": [
                status_pills(status, low)
                for status, low in zip(
                    shown["status"], shown["low_confidence"], strict=True
                )
            ],
            **{dim: shown[dim] for dim in DIMENSIONS},
            # Rounded before display so that -0.01 never reads as "-0.0".
            "delta_7d": shown["delta_7d"].round(1) + 0.0,
            "delta_30d": shown["delta_30d"].round(1) + 0.0,
            "error_budget": shown["error_budget_remaining"] * 100,
            "trend": shown["trend"],
            "coverage": shown["coverage"] * 100,
            "last_sync": pd.to_datetime(shown["last_sync"]),
        }
    )
    return frame.reset_index(drop=True)


def portfolio_table(shown: pd.DataFrame, view: View) -> None:
    """The ranked table; selecting a row opens that product's page."""
    frame = display_frame(shown, view)
    # Any: config and plain labels mixed would be inferred as Collection[str].
    config: dict[str, Any] = {
        "rank": st.column_config.NumberColumn("#", width="small", pinned=True),
        "product": st.column_config.LinkColumn(
            "Product",
            display_text=r"#(.+)$",
            pinned=True,
            help="Opens the product page with this view (weights, filters)",
        ),
        "team": "Team",
        "tier": st.column_config.NumberColumn("Tier", width="small"),
        "overall": st.column_config.ProgressColumn(
            "Overall", format="%.1f", min_value=0, max_value=100
        ),
        "status": st.column_config.MultiselectColumn(
            "Status",
            options=STATUS_PILLS,
            color=STATUS_PILL_COLOURS,
            help="low confidence: less than half of the weight had data",
        ),
        **{
            dim: st.column_config.NumberColumn(DIMENSION_LABELS[dim], format="%.1f")
            for dim in DIMENSIONS
        },
        "delta_7d": st.column_config.NumberColumn("Δ 7d", format="%+.1f"),
        "delta_30d": st.column_config.NumberColumn("Δ 30d", format="%+.1f"),
        "error_budget": st.column_config.NumberColumn(
            "Error budget",
            format="%.0f%%",
            help="Error budget left over 30 days against the product's SLO",
        ),
        "trend": st.column_config.LineChartColumn("90 days", y_min=0, y_max=100),
        "coverage": st.column_config.NumberColumn(
            "Coverage", format="%.0f%%", help="Share of the weight that had data"
        ),
        "last_sync": st.column_config.DatetimeColumn("Data from", format="distance"),
    }
    # Colour comes from the pill column: a pandas Styler here cost 0.3 s per
    # rerun at 2,000 products (#7).
    event = st.dataframe(
        frame,
        hide_index=True,
        column_config=config,
        on_select="rerun",
        selection_mode="single-row",
        key="portfolio_table",
        placeholder="no data",
        height=min(36 * (len(frame) + 1) + 3, 740),
    )
    rows = event.selection.rows if event else []
    if rows:
        slug = shown.iloc[rows[0]]["slug"]
        st.switch_page(
            f"app_pages/{PRODUCT_PAGE}.py",
            query_params={**view.query_params(), "product": slug},
        )
    st.caption(
        "Select a row or click a name to open the product. "
        "Cells without data say so; they are never counted as 0."
    )


def csv_frame(shown: pd.DataFrame) -> pd.DataFrame:
    """What the table shows, flat, for download."""
    columns = [
        "rank",
        "slug",
        "name",
        "team",
        "tier",
        "overall",
        "status",
        "coverage",
        "low_confidence",
        *DIMENSIONS,
        "delta_7d",
        "delta_30d",
        "forecast_14d",
        "error_budget_remaining",
    ]
    return shown[columns]


def csv_download(shown: pd.DataFrame) -> None:
    data = csv_frame(shown).to_csv(index=False).encode()
    st.download_button(
        "Download CSV",
        data,
        file_name=f"reliability-{dt.date.today()}.csv",
        mime="text/csv",
        icon=":material/download:",
    )
