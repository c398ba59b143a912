"""Altair chart builders shared by the pages.

Every score chart draws the status bands (Healthy from 80, Warning from 60,
Critical below) behind its lines, so a line's band reads at a glance. Builders
take tidy frames and return charts; pages decide where to put them.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from reliability.scoring import CRITICAL, HEALTHY, HEALTHY_AT, WARNING, WARNING_AT

BAND_COLOURS = {HEALTHY: "#2e9e4f", WARNING: "#f29d38", CRITICAL: "#d9453d"}
BANDS = pd.DataFrame(
    [
        {"status": HEALTHY, "low": HEALTHY_AT, "high": 100.0},
        {"status": WARNING, "low": WARNING_AT, "high": HEALTHY_AT},
        {"status": CRITICAL, "low": 0.0, "high": WARNING_AT},
    ]
)
_SCORE_SCALE = alt.Scale(domain=[0, 100], nice=False)


def status_bands() -> alt.Chart:
    """Three full-width stripes, one per status band."""
    bands = BANDS.assign(colour=BANDS["status"].map(BAND_COLOURS))
    # Fill with scale=None paints the colours as given: the bands stay out of the
    # colour scale and legend that the lines of a layered chart share.
    return (
        alt.Chart(bands)
        .mark_rect(opacity=0.10)
        .encode(
            y=alt.Y("low:Q", scale=_SCORE_SCALE, title="Score"),
            y2="high:Q",
            fill=alt.Fill("colour:N", scale=None, legend=None),
            tooltip=alt.value(None),
        )
    )


def score_lines(
    daily: pd.DataFrame,
    changes: pd.DataFrame | None = None,
    *,
    emphasise: str | None = None,
    height: int = 340,
) -> alt.LayerChart:
    """Score lines over days with the status bands behind them.

    ``daily`` is long: ``day``, ``series`` (the line's label) and ``score``.
    ``changes`` marks days where the status changed: ``day``, ``score`` and
    ``change`` (e.g. "Warning → Critical"). The ``emphasise`` series is drawn
    thicker, on top of the others.
    """
    daily = daily.assign(day=pd.to_datetime(daily["day"]))
    order = list(dict.fromkeys(daily["series"]))
    x = alt.X("day:T", title=None, axis=alt.Axis(format="%d %b", labelOverlap=True))
    lines = (
        alt.Chart(daily)
        .mark_line(interpolate="monotone")
        .encode(
            x=x,
            y=alt.Y("score:Q", scale=_SCORE_SCALE, title="Score"),
            color=alt.Color(
                "series:N",
                sort=order,
                title=None,
                legend=alt.Legend(orient="top", labelLimit=200),
            ),
            strokeWidth=alt.condition(
                alt.datum.series == (emphasise or ""), alt.value(3.5), alt.value(1.8)
            ),
            tooltip=[
                alt.Tooltip("day:T", title="Day", format="%a %d %b %Y"),
                alt.Tooltip("series:N", title="Line"),
                alt.Tooltip("score:Q", title="Score", format=".1f"),
            ],
        )
    )
    layers: list[alt.Chart] = [status_bands(), lines]
    if changes is not None and not changes.empty:
        changes = changes.assign(day=pd.to_datetime(changes["day"]))
        layers.append(
            alt.Chart(changes)
            .mark_point(
                shape="diamond", size=110, filled=True, color="#222", opacity=0.9
            )
            .encode(
                x=x,
                y=alt.Y("score:Q", scale=_SCORE_SCALE),
                tooltip=[
                    alt.Tooltip("day:T", title="Day", format="%a %d %b %Y"),
                    alt.Tooltip("change:N", title="Status"),
                    alt.Tooltip("score:Q", title="Overall", format=".1f"),
                ],
            )
        )
    return _layer(layers, height)


def availability_chart(
    daily: pd.DataFrame, slo_percent: float, height: int = 240
) -> alt.LayerChart:
    """Daily and 30-day availability (%) with the SLO as a dashed rule."""
    frame = pd.DataFrame(
        {
            "day": pd.to_datetime(daily["day"]),
            "Daily": 100.0 * daily["availability"].astype(float),
            "30 days": 100.0 * daily["availability_30d"].astype(float),
        }
    ).melt(
        id_vars="day",
        value_vars=["Daily", "30 days"],
        var_name="series",
        value_name="availability",
    )
    low = (
        min(float(frame["availability"].min()), slo_percent)
        if not frame.empty
        else slo_percent
    )
    scale = alt.Scale(domain=[max(0.0, low - 0.2), 100.0], nice=False)
    lines = (
        alt.Chart(frame)
        .mark_line()
        .encode(
            x=alt.X("day:T", title=None, axis=alt.Axis(format="%d %b")),
            y=alt.Y("availability:Q", scale=scale, title="Availability (%)"),
            color=alt.Color("series:N", title=None, legend=alt.Legend(orient="top")),
            tooltip=[
                alt.Tooltip("day:T", title="Day", format="%a %d %b %Y"),
                alt.Tooltip("series:N", title="Window"),
                alt.Tooltip("availability:Q", title="Availability (%)", format=".3f"),
            ],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"slo": [slo_percent]}))
        .mark_rule(strokeDash=[6, 4], color=BAND_COLOURS[CRITICAL])
        .encode(y="slo:Q", tooltip=[alt.Tooltip("slo:Q", title="SLO (%)")])
    )
    return _layer([lines, rule], height)


def budget_chart(daily: pd.DataFrame, height: int = 240) -> alt.Chart:
    """Error budget remaining (%) over the trailing 30 days, per day."""
    frame = daily.assign(
        day=pd.to_datetime(daily["day"]),
        budget=100.0 * daily["error_budget_remaining"].astype(float),
    )
    return (
        alt.Chart(frame)
        .mark_area(line=True, opacity=0.25)
        .encode(
            x=alt.X("day:T", title=None, axis=alt.Axis(format="%d %b")),
            y=alt.Y(
                "budget:Q",
                scale=alt.Scale(domain=[0, 100]),
                title="Error budget left (%)",
            ),
            tooltip=[
                alt.Tooltip("day:T", title="Day", format="%a %d %b %Y"),
                alt.Tooltip("budget:Q", title="Budget left (%)", format=".0f"),
            ],
        )
        .properties(height=height)
    )


def _layer(layers: list[alt.Chart], height: int) -> alt.LayerChart:
    # Not alt.layer: since altair 6 it may return a FacetChart (it hoists facet
    # encodings), and these layers have none.
    return alt.LayerChart(layer=layers).properties(height=height)
