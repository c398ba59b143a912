"""The evidence behind a product's score: Sentry, Jira, SonarCloud and Azure.

Each section reads the store through a query cached for a few minutes and keyed
by the file's mtime, so a sync shows up on the next rerun. Text from a source
goes into dataframes, which show it as text, never raw into Markdown.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from reliability import evidence, slo
from reliability.store import Store
from reliability.ui import charts
from reliability.ui.frame import Context
from reliability.ui.product_view import RATING_LETTERS

_EVIDENCE_TTL_SECONDS = 300


def _percent(share: float | None, digits: int) -> str:
    return "–" if share is None else f"{share * 100:.{digits}f} %"


@st.cache_data(ttl=_EVIDENCE_TTL_SECONDS, max_entries=256, show_spinner=False)
def _query_frame(
    kind: str, path: str, stamp: int, product: str, as_of: dt.date
) -> pd.DataFrame:
    # ``stamp`` (the file's mtime) is in the key so that a sync invalidates it.
    store = Store(path)
    if kind == "issues":
        return evidence.open_issues(store, product, as_of)
    if kind == "breaches":
        return evidence.sla_breaches(store, product, as_of)
    if kind == "high":
        return evidence.oldest_high_priority(store, product, as_of)
    return evidence.sonar_projects(store, product, as_of)


@st.cache_data(ttl=_EVIDENCE_TTL_SECONDS, max_entries=256, show_spinner=False)
def _query_availability(
    path: str, stamp: int, product: str, as_of: dt.date, slo_percent: float
) -> evidence.Availability:
    # ``stamp`` (the file's mtime) is in the key so that a sync invalidates it.
    return evidence.availability(Store(path), product, as_of, slo_percent)


def _store_key(ctx: Context) -> tuple[str, int]:
    version = ctx.snapshot.version
    path = version.path if version else str(Store.from_env().path)
    return path, version.mtime_ns if version else 0


def _evidence(ctx: Context, kind: str, row: pd.Series) -> pd.DataFrame:
    path, stamp = _store_key(ctx)
    return _query_frame(kind, path, stamp, str(row["slug"]), ctx.snapshot.as_of)


def _availability(ctx: Context, row: pd.Series) -> evidence.Availability:
    path, stamp = _store_key(ctx)
    return _query_availability(
        path, stamp, str(row["slug"]), ctx.snapshot.as_of, float(row["slo"])
    )


def _has_source(row: pd.Series, source: str) -> bool:
    sources = row["sources"]
    return sources is not None and source in list(sources)


def sentry_issues(ctx: Context, row: pd.Series) -> None:
    """The open Sentry issues that weigh most, fatal and error ones first."""
    st.subheader("Open Sentry issues that weigh most")
    if not _has_source(row, "sentry"):
        st.caption(evidence.SOURCE_HINTS["runtime"].capitalize() + ".")
        return
    issues = _evidence(ctx, "issues", row)
    if issues.empty:
        st.success("No open issues.", icon=":material/check_circle:")
        return
    st.dataframe(
        issues[
            [
                "short_id",
                "title",
                "level",
                "event_count",
                "user_count",
                "first_seen",
                "permalink",
            ]
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "short_id": st.column_config.TextColumn("Issue", width="small"),
            "title": st.column_config.TextColumn("Title", width="large"),
            "level": st.column_config.TextColumn("Level", width="small"),
            "event_count": st.column_config.NumberColumn("Events", format="localized"),
            "user_count": st.column_config.NumberColumn("Users", format="localized"),
            "first_seen": st.column_config.DatetimeColumn(
                "First seen", format="D MMM YYYY"
            ),
            "permalink": st.column_config.LinkColumn(
                "Link", display_text="Open in Sentry"
            ),
        },
    )
    st.caption(
        "Fatal and error issues first (they count against the score), then by users affected."
    )


def jira_tickets(ctx: Context, row: pd.Series) -> None:
    """Recent Jira SLA breaches beside the oldest open high-priority tickets."""
    st.subheader("Jira: SLA breaches and old high-priority tickets")
    if not _has_source(row, "jira"):
        st.caption(evidence.SOURCE_HINTS["operations"].capitalize() + ".")
        return
    left, right = st.columns(2)
    with left:
        st.markdown("**SLA breaches, last 30 days**")
        breaches = _evidence(ctx, "breaches", row)
        _tickets(
            breaches.assign(late=breaches["hours_late"]),
            "late",
            "Hours late",
            "due",
            "Due",
        )
    with right:
        st.markdown("**Oldest open high-priority tickets**")
        high = _evidence(ctx, "high", row)
        _tickets(
            high.assign(late=high["age_days"]),
            "late",
            "Age (days)",
            "created",
            "Created",
        )


def _tickets(
    frame: pd.DataFrame, figure: str, figure_label: str, when: str, when_label: str
) -> None:
    if frame.empty:
        st.caption("None.")
        return
    st.dataframe(
        frame[["key", "summary", "priority", when, figure, "url"]],
        hide_index=True,
        width="stretch",
        column_config={
            "key": st.column_config.TextColumn("Ticket", width="small"),
            "summary": st.column_config.TextColumn("Summary", width=200),
            "priority": st.column_config.TextColumn("Priority", width="small"),
            when: st.column_config.DatetimeColumn(when_label, format="D MMM YYYY"),
            figure: st.column_config.NumberColumn(figure_label, format="%.1f"),
            "url": st.column_config.LinkColumn("Link", display_text="Open", width=60),
        },
    )


def sonar(ctx: Context, row: pd.Series) -> None:
    """Each SonarCloud project's quality gate, measures and ratings."""
    st.subheader("SonarCloud gate and measures")
    if not _has_source(row, "sonar"):
        st.caption(evidence.SOURCE_HINTS["quality"].capitalize() + ".")
        return
    projects = _evidence(ctx, "sonar", row).copy()
    if projects.empty:
        st.caption("No analysis yet.")
        return
    gate_badges = {"OK": "Passed", "WARN": "Warning", "ERROR": "Failed"}
    projects["gate"] = projects["gate"].map(
        lambda g: gate_badges.get(str(g).upper(), "–")
    )
    for column in ("reliability_rating", "security_rating", "sqale_rating"):
        projects[column] = projects[column].map(
            lambda r: "–" if pd.isna(r) else RATING_LETTERS.get(int(r), "?")
        )
    st.dataframe(
        projects, hide_index=True, width="stretch", column_config=_SONAR_COLUMNS
    )


_COUNT, _PERCENT = "localized", "%.1f %%"
# Any: config and plain labels mixed would be inferred as Collection[str].
_SONAR_COLUMNS: dict[str, Any] = {
    "project_key": st.column_config.TextColumn("Project"),
    "analysed_at": st.column_config.DatetimeColumn("Analysed", format="D MMM YYYY"),
    "gate": "Quality gate",
    "bugs": st.column_config.NumberColumn("Bugs", format=_COUNT),
    "vulnerabilities": st.column_config.NumberColumn("Vulnerabilities", format=_COUNT),
    "code_smells": st.column_config.NumberColumn("Code smells", format=_COUNT),
    "coverage": st.column_config.NumberColumn("Coverage", format=_PERCENT),
    "duplicated_lines_density": st.column_config.NumberColumn(
        "Duplication", format=_PERCENT
    ),
    "security_hotspots_reviewed": st.column_config.NumberColumn(
        "Hotspots reviewed", format=_PERCENT
    ),
    "reliability_rating": "Reliability",
    "security_rating": "Security",
    "sqale_rating": "Maintainability",
    "ncloc": st.column_config.NumberColumn("Lines of code", format=_COUNT),
}


def availability(ctx: Context, row: pd.Series) -> None:
    """Availability against the SLO, the error budget and its burn rates."""
    st.subheader("Availability and error budget")
    result = _availability(ctx, row) if _has_source(row, "azure") else None
    if result is None or not result.has_data:
        st.caption(evidence.SOURCE_HINTS["system_health"].capitalize() + ".")
        return
    columns = st.columns(4)
    columns[0].metric(
        "Availability, 30 days",
        _percent(result.availability_30d, 3),
        delta=f"SLO {result.slo_percent:g} %",
        delta_color="off",
        delta_arrow="off",
        border=True,
    )
    columns[1].metric(
        "Error budget left", _percent(result.budget_remaining, 0), border=True
    )
    columns[2].metric(
        "Downtime left",
        f"{result.minutes_left:.1f} min",
        delta=f"of {result.budget_minutes:.1f} min in 30 days",
        delta_color="off",
        delta_arrow="off",
        border=True,
    )
    state = result.burn.state if result.burn else None
    columns[3].metric(
        "Burn alert",
        _BURN_BADGES.get(state, "–"),
        border=True,
        help="Multi-window burn-rate alerting of the Google SRE workbook",
    )

    left, middle, right = st.columns([2, 2, 1.4])
    with left:
        st.altair_chart(
            charts.availability_chart(result.daily, result.slo_percent), width="stretch"
        )
    with middle:
        st.altair_chart(charts.budget_chart(result.daily), width="stretch")
    with right:
        if result.burn is not None:
            st.dataframe(burn_frame(result.burn), hide_index=True, width="stretch")
            st.caption(f"Newest hour: {result.burn.as_of:%d %b %H:00} UTC")


_BURN_BADGES: dict[str | None, str] = {
    slo.PAGE: ":red[●] Page",
    slo.TICKET: ":orange[●] Ticket",
    slo.OK: ":green[●] OK",
}


def burn_frame(burn: slo.BurnStatus) -> pd.DataFrame:
    """One row per alerting rule: window, burn rate, threshold and state."""
    rows = []
    for rule in slo.SRE_BURN_RULES:
        rate = burn.burn_rates.get(rule.long_window)
        state = slo.alert_state(burn.burn_rates, rules=(rule,))
        rows.append(
            {
                "Window": rule.long_window,
                "Burn rate": "–" if rate is None else f"{rate:.1f}×",
                "Alert at": f"{rule.threshold:g}× ({rule.state})",
                "State": state or "–",
            }
        )
    return pd.DataFrame(rows)
