"""Derived trend figures: deltas, degradation and the 14-day forecast.

``matrix_figures`` works on a product x day matrix of overall scores (the
slider path); ``trend_figures`` does the same from a frame of daily scores.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from reliability.scoring import (
    CRITICAL,
    HEALTHY,
    HEALTHY_AT,
    NO_DATA,
    WARNING,
    WARNING_AT,
    statuses,
)

FORECAST_FIT_DAYS = 30
FORECAST_AHEAD_DAYS = 14
DEGRADING_DELTA_7D = -10.0
_BAND_RANK = {HEALTHY: 0, WARNING: 1, CRITICAL: 2}


def band_rank(status: str) -> int | None:
    """Order statuses from best (0) to worst (2); None for "No data"."""
    return _BAND_RANK.get(status)


def is_worse_band(new: str, old: str) -> bool:
    """True when ``new`` is a worse status band than ``old``."""
    new_rank, old_rank = band_rank(new), band_rank(old)
    return new_rank is not None and old_rank is not None and new_rank > old_rank


def trend_figures(daily: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Deltas, degradation flags and the forecast per product as of ``as_of``.

    ``daily`` has ``product``, ``day`` and ``overall``; the result has one row
    per product with a ``product`` column and those of ``matrix_figures``.
    """
    pivot = daily.pivot(index="product", columns="day", values="overall")
    pivot = pivot.reindex(columns=sorted(pivot.columns))
    figures = matrix_figures(pivot.to_numpy(dtype=float), tuple(pivot.columns), as_of)
    return pd.DataFrame({"product": pivot.index, **figures})


def matrix_figures(
    overall: np.ndarray, days: Sequence[dt.date], as_of: dt.date
) -> dict[str, np.ndarray | list[list[float | None]]]:
    """Trend figures from an overall score matrix (product x day, oldest first).

    Keys: ``delta_7d``, ``delta_30d`` (NaN when either end has no score),
    ``fell_band_7d``, ``degrading``, ``forecast_14d``, ``forecast_status``,
    ``at_risk`` and ``trend`` (each product's daily scores, for sparklines).
    """
    position = {day: index for index, day in enumerate(days)}
    today = _day_column(overall, position, as_of)
    delta_7d = today - _day_column(overall, position, as_of - dt.timedelta(days=7))
    delta_30d = today - _day_column(overall, position, as_of - dt.timedelta(days=30))

    # A fall is today's band being worse than the best band of the past week.
    week = [position[d] for d in days if as_of - dt.timedelta(days=7) <= d <= as_of]
    ranks = (
        _band_ranks(overall[:, week]) if week else np.full((len(overall), 1), np.nan)
    )
    with np.errstate(invalid="ignore"):
        fell_band = np.nan_to_num(ranks[:, -1], nan=-1) > np.fmin.reduce(
            np.where(np.isnan(ranks), np.inf, ranks), axis=1
        )
    degrading = (np.nan_to_num(delta_7d, nan=0.0) <= DEGRADING_DELTA_7D) | fell_band

    fit = [position[d] for d in days if d in position and _in_fit(d, as_of)]
    x = np.array([(days[i] - as_of).days for i in fit], dtype=float)
    projected = forecast_values(overall[:, fit], x)
    forecast_rank = _band_ranks(projected[:, None])[:, 0]
    today_rank = _band_ranks(today[:, None])[:, 0]
    at_risk = np.nan_to_num(forecast_rank, nan=-1) > np.nan_to_num(today_rank, nan=9)
    return {
        "delta_7d": delta_7d,
        "delta_30d": delta_30d,
        "fell_band_7d": fell_band,
        "degrading": degrading,
        "forecast_14d": projected,
        "forecast_status": statuses(projected),
        "at_risk": at_risk,
        "trend": _rounded_lists(overall),
    }


def _in_fit(day: dt.date, as_of: dt.date) -> bool:
    return as_of - dt.timedelta(days=FORECAST_FIT_DAYS - 1) <= day <= as_of


def _day_column(
    overall: np.ndarray, position: dict[dt.date, int], day: dt.date
) -> np.ndarray:
    if day in position:
        return overall[:, position[day]].astype(float)
    return np.full(len(overall), np.nan)


def _rounded_lists(values: np.ndarray) -> list[list[float | None]]:
    """Each row as a list of ``round(v, 2)``, None for NaN, as Python would round.

    ``round`` per value cost 0.2 s at 2,000 products (#7). Scaling by 100 and
    rounding to an integer gives the same double unless the scaled value is
    near a half, where the scaling's rounding error could tip it: those few
    go through ``round`` itself.
    """
    scaled = values * 100.0
    rounded = (np.rint(scaled) / 100.0).astype(object)
    is_near_half = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
    for row, column in zip(*np.nonzero(is_near_half), strict=True):
        rounded[row, column] = round(float(values[row, column]), 2)
    rounded[np.isnan(values)] = None
    return rounded.tolist()


def _band_ranks(scores: np.ndarray) -> np.ndarray:
    """``band_rank`` of each score's status, NaN for "No data", vectorised."""
    ranks = np.where(
        scores >= HEALTHY_AT, 0.0, np.where(scores >= WARNING_AT, 1.0, 2.0)
    )
    return np.where(np.isnan(scores), np.nan, ranks)


def forecast(pivot: pd.DataFrame, as_of: dt.date) -> pd.Series:
    """Project a least-squares line through the last 30 scores 14 days ahead.

    ``pivot`` has one row per product and one column per day.
    """
    days = [d for d in pivot.columns if _in_fit(d, as_of)]
    x = np.array([(d - as_of).days for d in days], dtype=float)
    values = forecast_values(pivot[days].to_numpy(dtype=float), x)
    return pd.Series(values, index=pivot.index)


def forecast_values(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Fit ``y`` (product x day) against ``x`` (days relative to today), 14 days on.

    Days without a score are left out of the fit; fewer than two points give no
    forecast (NaN). The projection is clamped to 0..100.
    """
    if y.size == 0:
        return np.full(len(y), np.nan)
    present = ~np.isnan(y)
    n = present.sum(axis=1)
    xs = np.where(present, x, 0.0)
    ys = np.where(present, y, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_mean = xs.sum(axis=1) / n
        y_mean = ys.sum(axis=1) / n
        dx = np.where(present, x - x_mean[:, None], 0.0)
        slope = (dx * (ys - y_mean[:, None])).sum(axis=1) / (dx**2).sum(axis=1)
    slope = np.where(n >= 2, np.nan_to_num(slope, nan=0.0), np.nan)
    projected = y_mean + slope * (FORECAST_AHEAD_DAYS - x_mean)
    return np.clip(projected, 0.0, 100.0)


def portfolio_mean(daily: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Mean overall score per day (and per ``by`` group), ignoring "No data"."""
    keys = ["day"] if by is None else ["day", by]
    scored = daily[daily["status"] != NO_DATA]
    return scored.groupby(keys, as_index=False)["overall"].mean()
