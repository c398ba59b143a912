"""Error budgets, burn rates and the system_health metrics, with no I/O.

An SLO of 99.9% allows 0.1% of requests to fail over its window (30 days here);
that allowance is the error budget. The burn rate is how fast a window spends it:
1.0 spends exactly the budget over the SLO window, 14.4 spends 2% of a 30-day
budget in one hour. Alerting follows the multi-window, multi-burn-rate table of
the Google SRE workbook (https://sre.google/workbook/alerting-on-slos/).

Availability and budgets are ratios (0..1); ``slo_percent`` is a percentage
(99.9), as in the portfolio file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

SLO_WINDOW_DAYS = 30
AVAILABILITY_WINDOW_DAYS = 30
LATENCY_WINDOW_DAYS = 7
DEFAULT_SLO_PERCENT = 99.9

PAGE, TICKET, OK = "page", "ticket", "ok"

# Window lengths in minutes; hourly data rounds each up to whole hours.
WINDOW_MINUTES: dict[str, int] = {
    "5m": 5,
    "30m": 30,
    "1h": 60,
    "2h": 120,
    "6h": 360,
    "1d": 1440,
    "3d": 4320,
}
BURN_WINDOWS: tuple[str, ...] = ("1h", "2h", "6h", "1d", "3d")

SYSTEM_HEALTH_COLUMNS: tuple[str, ...] = (
    "product",
    "day",
    "availability_30d",
    "error_budget_remaining",
    "p95_response_ms",
    "failed_request_rate",
)


@dataclass(frozen=True, kw_only=True)
class BurnRule:
    """Alert ``state`` when both windows burn at ``threshold`` or faster."""

    state: str
    threshold: float
    long_window: str
    short_window: str


# The SRE workbook's recommended table for a 30-day SLO, most urgent first.
SRE_BURN_RULES: tuple[BurnRule, ...] = (
    BurnRule(state=PAGE, threshold=14.4, long_window="1h", short_window="5m"),
    BurnRule(state=PAGE, threshold=6.0, long_window="6h", short_window="30m"),
    BurnRule(state=TICKET, threshold=3.0, long_window="1d", short_window="2h"),
    BurnRule(state=TICKET, threshold=1.0, long_window="3d", short_window="6h"),
)


@dataclass(frozen=True, kw_only=True)
class BurnStatus:
    """Burn rates per window as of one hour, and the alert state they give.

    ``burn_rates`` maps "1h", "2h", "6h", "1d", "3d" to a rate, or None where the
    window saw no requests. ``state`` is "page", "ticket", "ok", or None when no
    window has any data.
    """

    as_of: pd.Timestamp
    burn_rates: Mapping[str, float | None]
    state: str | None


def allowed_failure_ratio(slo_percent: float) -> float:
    """Return the share of requests the SLO lets fail, e.g. 0.001 for 99.9."""
    if not 0 < slo_percent < 100:
        raise ValueError(f"slo_percent must be between 0 and 100, not {slo_percent}")
    return 1.0 - slo_percent / 100.0


def error_budget_remaining(availability: float, slo_percent: float) -> float:
    """Return the unspent share of the error budget, clamped to 0..1.

    ``availability`` is successful / total requests over the SLO window (0..1).
    """
    spent = (1.0 - availability) / allowed_failure_ratio(slo_percent)
    return min(max(1.0 - spent, 0.0), 1.0)


def error_budget_minutes(
    slo_percent: float, window_days: float = SLO_WINDOW_DAYS
) -> float:
    """Return the downtime the SLO allows over the window, in minutes.

    99.9% over 30 days allows 43.2 minutes.
    """
    return window_days * 24 * 60 * allowed_failure_ratio(slo_percent)


def downtime_minutes_left(
    availability: float, slo_percent: float, window_days: float = SLO_WINDOW_DAYS
) -> float:
    """Return the minutes of full downtime the rest of the budget still allows."""
    remaining = error_budget_remaining(availability, slo_percent)
    return remaining * error_budget_minutes(slo_percent, window_days)


def burn_rate(failed: float, total: float, slo_percent: float) -> float | None:
    """Return (failed / total) / allowed failure ratio; None when total is 0."""
    if total <= 0:
        return None
    return (failed / total) / allowed_failure_ratio(slo_percent)


def window_hours(window: str) -> int:
    """Return a window's length in whole hours, rounding up (5m -> 1h)."""
    return math.ceil(WINDOW_MINUTES[window] / 60)


def alert_state(
    burn_rates: Mapping[str, float | None],
    rules: tuple[BurnRule, ...] = SRE_BURN_RULES,
) -> str | None:
    """Return "page", "ticket" or "ok" for burn rates keyed by window.

    Short windows missing from ``burn_rates`` (5m, 30m) use the rate of the
    hourly window they round up to. None when every rate is None.
    """
    if all(rate is None for rate in burn_rates.values()):
        return None
    for rule in rules:
        long_rate = _rate_for(burn_rates, rule.long_window)
        short_rate = _rate_for(burn_rates, rule.short_window)
        if long_rate is None or short_rate is None:
            continue
        if long_rate >= rule.threshold and short_rate >= rule.threshold:
            return rule.state
    return OK


def hourly_burn_status(
    hourly: pd.DataFrame, as_of: pd.Timestamp | str, slo_percent: float
) -> BurnStatus:
    """Compute burn rates and the alert state from hourly request counts.

    ``hourly`` has columns ``hour``, ``total`` and ``failed`` (rows of several
    apps are pooled). ``as_of`` names the newest hour bucket included: the 1h
    window is that bucket alone, the 6h window it and the five before it.
    """
    as_of = pd.Timestamp(as_of).floor("h")
    hours = pd.to_datetime(hourly["hour"]).dt.floor("h")
    counts = hourly[["total", "failed"]].astype(float)

    rates: dict[str, float | None] = {}
    for window in BURN_WINDOWS:
        start = as_of - pd.Timedelta(hours=window_hours(window) - 1)
        inside = (hours >= start) & (hours <= as_of)
        total = float(counts.loc[inside, "total"].sum())
        failed = float(counts.loc[inside, "failed"].sum())
        rates[window] = burn_rate(failed, total, slo_percent)
    return BurnStatus(as_of=as_of, burn_rates=rates, state=alert_state(rates))


def system_health_daily(
    daily: pd.DataFrame,
    slo_percent: float | Mapping[str, float] = DEFAULT_SLO_PERCENT,
    *,
    end: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """Compute the system_health metrics per product and day, as scoring.md says.

    ``daily`` has columns ``product``, ``day``, ``total``, ``failed`` and
    ``p95_ms``, one row per app and day (apps of a product are pooled).
    ``slo_percent`` is one SLO for all products or a mapping by product.

    Returns ``SYSTEM_HEALTH_COLUMNS``, one row per product and day from the
    product's first day of data to ``end`` (default: the newest day), where the
    30-day window has requests. Metrics whose window has none are NaN.

    - ``availability_30d``: 1 - failed / total over the 30-day window (0..1).
    - ``error_budget_remaining``: from that availability and the product's SLO.
    - ``failed_request_rate``: 100 * failed / total over the 7-day window (%).
    - ``p95_response_ms``: the request-weighted mean of the daily p95 values over
      the 7-day window. A true 7-day p95 needs the raw durations, which we never
      download; the weighted mean is exact when days are alike and otherwise
      lies between the best and worst daily p95.
    """
    if daily.empty:
        return pd.DataFrame(columns=list(SYSTEM_HEALTH_COLUMNS))
    pooled = _pool_by_product_day(daily)
    wide = pooled.pivot(index="day", columns="product")
    days = pd.date_range(
        wide.index.min(), _end_day(end, wide.index.max()), freq="D", name="day"
    )
    wide = wide.reindex(days).fillna(0.0)

    month = wide.rolling(AVAILABILITY_WINDOW_DAYS, min_periods=1).sum()
    week = wide.rolling(LATENCY_WINDOW_DAYS, min_periods=1).sum()
    availability = 1.0 - _ratio(month["failed"], month["total"])
    failed_rate = 100.0 * _ratio(week["failed"], week["total"])
    p95 = _ratio(week["p95_weighted"], week["p95_weight"])

    frame = pd.DataFrame(
        {
            "availability_30d": availability.stack(future_stack=True),
            "p95_response_ms": p95.stack(future_stack=True),
            "failed_request_rate": failed_rate.stack(future_stack=True),
            "month_total": month["total"].stack(future_stack=True),
        }
    ).reset_index()
    frame = frame[frame["month_total"] > 0]
    slo = _slo_per_row(frame["product"], slo_percent)
    budget = 1.0 - (1.0 - frame["availability_30d"]) / (1.0 - slo / 100.0)
    frame["error_budget_remaining"] = budget.clip(0.0, 1.0)
    frame = frame.sort_values(["product", "day"], ignore_index=True)
    return frame[list(SYSTEM_HEALTH_COLUMNS)]


def _rate_for(burn_rates: Mapping[str, float | None], window: str) -> float | None:
    if window in burn_rates:
        return burn_rates[window]
    # Hourly data cannot see a 5m or 30m window: use the hour it rounds up to.
    return burn_rates.get(f"{window_hours(window)}h")


def _pool_by_product_day(daily: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "product": daily["product"].astype(str),
            "day": pd.to_datetime(daily["day"]).dt.normalize(),
            "total": daily["total"].astype(float),
            "failed": daily["failed"].astype(float),
        }
    )
    # Weight each app's daily p95 by its requests; days without a p95 weigh 0.
    p95 = pd.to_numeric(daily["p95_ms"], errors="coerce").astype(float)
    has_p95 = p95.notna() & (frame["total"] > 0)
    frame["p95_weighted"] = (p95 * frame["total"]).where(has_p95, 0.0)
    frame["p95_weight"] = frame["total"].where(has_p95, 0.0)
    return frame.groupby(["product", "day"], as_index=False).sum()


def _ratio(numerator: pd.DataFrame, denominator: pd.DataFrame) -> pd.DataFrame:
    return numerator / denominator.where(denominator > 0, np.nan)


def _end_day(end: pd.Timestamp | str | None, newest: pd.Timestamp) -> pd.Timestamp:
    return newest if end is None else pd.Timestamp(end).normalize()


def _slo_per_row(
    products: pd.Series, slo_percent: float | Mapping[str, float]
) -> pd.Series:
    if isinstance(slo_percent, Mapping):
        mapped = products.map(lambda slug: slo_percent.get(slug, DEFAULT_SLO_PERCENT))
        return mapped.astype(float)
    return pd.Series(float(slo_percent), index=products.index)
