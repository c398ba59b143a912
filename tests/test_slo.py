from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as hst

from reliability import slo


def test_error_budget_minutes_for_three_nines_over_30_days_is_43_2():
    assert slo.error_budget_minutes(99.9) == pytest.approx(43.2)
    assert slo.error_budget_minutes(99.0, window_days=7) == pytest.approx(100.8)


@pytest.mark.parametrize(
    ("availability", "slo_percent", "expected"),
    [
        pytest.param(1.0, 99.9, 1.0, id="perfect"),
        pytest.param(0.9995, 99.9, 0.5, id="half-spent"),
        pytest.param(0.999, 99.9, 0.0, id="exactly-spent"),
        pytest.param(0.99, 99.9, 0.0, id="overspent-clamps-to-0"),
        pytest.param(0.998, 99.0, 0.8, id="two-nines"),
    ],
)
def test_error_budget_remaining_by_hand(availability, slo_percent, expected):
    assert slo.error_budget_remaining(availability, slo_percent) == pytest.approx(
        expected
    )


def test_downtime_minutes_left_is_the_unspent_share_of_the_budget():
    assert slo.downtime_minutes_left(0.9995, 99.9) == pytest.approx(21.6)
    assert slo.downtime_minutes_left(0.99, 99.9) == 0.0


@pytest.mark.parametrize(
    ("failed", "total", "slo_percent", "expected"),
    [
        pytest.param(1, 1000, 99.9, 1.0, id="burning-exactly-the-budget"),
        pytest.param(144, 10_000, 99.9, 14.4, id="page-rate"),
        pytest.param(0, 500, 99.9, 0.0, id="no-failures"),
        pytest.param(3, 100, 99.0, 3.0, id="two-nines"),
    ],
)
def test_burn_rate_by_hand(failed, total, slo_percent, expected):
    assert slo.burn_rate(failed, total, slo_percent) == pytest.approx(expected)


def test_burn_rate_without_requests_is_none():
    assert slo.burn_rate(0, 0, 99.9) is None


def test_slo_outside_0_to_100_is_rejected():
    with pytest.raises(ValueError, match="slo_percent"):
        slo.burn_rate(1, 10, 100.0)


@pytest.mark.parametrize(
    ("rates", "expected"),
    [
        pytest.param(
            {"1h": 15, "2h": 15, "6h": 7, "1d": 4, "3d": 2}, "page", id="fast"
        ),
        pytest.param({"1h": 6, "2h": 6, "6h": 6, "1d": 2, "3d": 1}, "page", id="6h"),
        pytest.param({"1h": 5, "2h": 3, "6h": 5, "1d": 3, "3d": 1}, "ticket", id="1d"),
        pytest.param({"1h": 0, "2h": 0, "6h": 1, "1d": 1, "3d": 1}, "ticket", id="3d"),
        pytest.param(
            {"1h": 20, "2h": 20, "6h": 5, "1d": 2, "3d": 0.5}, "page", id="spike"
        ),
        pytest.param(
            {"1h": 0, "2h": 0, "6h": 0.5, "1d": 2, "3d": 1.5}, "ok", id="short-calm"
        ),
        pytest.param(
            {"1h": 0.2, "2h": 2, "6h": 0.5, "1d": 0.9, "3d": 0.9}, "ok", id="low"
        ),
        pytest.param({"1h": None, "2h": None, "6h": None}, None, id="no-data"),
    ],
)
def test_alert_state_follows_the_sre_workbook_table(rates, expected):
    assert slo.alert_state(rates) == expected


def test_short_windows_round_up_to_whole_hours():
    assert [slo.window_hours(w) for w in ("5m", "30m", "2h", "6h", "3d")] == [
        1,
        1,
        2,
        6,
        72,
    ]


def _hourly(rows: list[tuple[str, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["hour", "total", "failed"])


def test_hourly_burn_status_pages_on_a_fresh_outage():
    # 71 quiet hours, then one hour where 2% of requests fail (burn 20).
    hours = pd.date_range("2025-05-01 00:00", periods=72, freq="h")
    frame = _hourly([(h, 1000, 0) for h in hours[:-1]] + [(hours[-1], 1000, 20)])

    status = slo.hourly_burn_status(frame, hours[-1], 99.9)

    assert status.burn_rates["1h"] == pytest.approx(20.0)
    assert status.burn_rates["6h"] == pytest.approx(20 / 6)
    assert status.burn_rates["3d"] == pytest.approx(20 / 72)
    assert status.state == "page"


def test_hourly_burn_status_tickets_a_slow_burn_and_pools_apps():
    # Two apps, each failing 0.15% all day: burn 1.5 everywhere.
    hours = pd.date_range("2025-05-01 00:00", periods=72, freq="h")
    rows = [(h, 1000, 1) for h in hours] + [(h, 1000, 2) for h in hours]

    status = slo.hourly_burn_status(_hourly(rows), hours[-1], 99.9)

    assert status.burn_rates["1d"] == pytest.approx(1.5)
    assert status.state == "ticket"


def test_hourly_burn_status_ignores_hours_after_as_of_and_none_without_data():
    frame = _hourly([("2025-05-02 10:00", 100, 50)])

    before = slo.hourly_burn_status(frame, "2025-05-02 09:00", 99.9)
    after = slo.hourly_burn_status(frame, "2025-05-02 10:30", 99.9)

    assert before.state is None
    assert set(before.burn_rates.values()) == {None}
    assert after.as_of == pd.Timestamp("2025-05-02 10:00")
    assert after.state == "page"


def _daily(rows: list[tuple[str, str, str, int, int, float | None]]) -> pd.DataFrame:
    columns = ["product", "app", "day", "total", "failed", "p95_ms"]
    return pd.DataFrame(rows, columns=columns)


def test_system_health_daily_pools_apps_and_weights_p95_by_requests():
    frame = _daily(
        [
            ("shop", "api", "2025-05-01", 1000, 1, 100.0),
            ("shop", "web", "2025-05-01", 3000, 3, 200.0),
            ("shop", "api", "2025-05-02", 1000, 2, None),
        ]
    )

    result = slo.system_health_daily(frame, {"shop": 99.9})

    assert list(result.columns) == list(slo.SYSTEM_HEALTH_COLUMNS)
    second = result.iloc[1]
    assert second["day"] == pd.Timestamp("2025-05-02")
    assert second["availability_30d"] == pytest.approx(1 - 6 / 5000)
    assert second["error_budget_remaining"] == 0.0
    assert second["failed_request_rate"] == pytest.approx(100 * 6 / 5000)
    # The day without a p95 carries no weight: (1000*100 + 3000*200) / 4000.
    assert second["p95_response_ms"] == pytest.approx(175.0)


def test_system_health_daily_windows_are_30_and_7_days():
    rows = [("shop", "api", "2025-05-01", 10_000, 5, 300.0)]
    rows += [("shop", "api", f"2025-05-{d:02d}", 10_000, 0, 100.0) for d in (9, 30)]

    result = slo.system_health_daily(_daily(rows), 99.9).set_index("day")

    # On 05-30 the 30-day window (05-01..05-30) still holds the failures of 05-01,
    # but the 7-day window (05-24..05-30) holds only 05-30.
    day = result.loc[pd.Timestamp("2025-05-30")]
    assert day["availability_30d"] == pytest.approx(1 - 5 / 30_000)
    assert day["error_budget_remaining"] == pytest.approx(1 - (5 / 30_000) / 0.001)
    assert day["failed_request_rate"] == 0.0
    assert day["p95_response_ms"] == pytest.approx(100.0)
    # 05-20 has 30-day data but an empty 7-day window: missing, not zero.
    quiet = result.loc[pd.Timestamp("2025-05-20")]
    assert math.isnan(quiet["p95_response_ms"])
    assert math.isnan(quiet["failed_request_rate"])


def test_system_health_daily_drops_days_without_30_day_data_and_uses_own_slo():
    frame = _daily(
        [
            ("a", "x", "2025-05-01", 1000, 1, 10.0),
            ("b", "y", "2025-05-03", 1000, 5, 20.0),
        ]
    )

    result = slo.system_health_daily(frame, {"a": 99.9, "b": 99.0}, end="2025-06-05")

    a = result[result["product"] == "a"]
    assert a["day"].min() == pd.Timestamp("2025-05-01")
    assert a["day"].max() == pd.Timestamp("2025-05-30")
    b = result[result["product"] == "b"].iloc[0]
    assert b["day"] == pd.Timestamp("2025-05-03")
    assert b["error_budget_remaining"] == pytest.approx(0.5)


def test_system_health_daily_of_nothing_is_empty():
    result = slo.system_health_daily(_daily([]))
    assert result.empty
    assert list(result.columns) == list(slo.SYSTEM_HEALTH_COLUMNS)


@given(
    availability=hst.floats(0.0, 1.0),
    slo_percent=hst.floats(50.0, 99.999),
)
def test_error_budget_remaining_stays_between_0_and_1(availability, slo_percent):
    assert 0.0 <= slo.error_budget_remaining(availability, slo_percent) <= 1.0


@given(
    failed=hst.integers(0, 1000),
    extra=hst.integers(0, 1000),
    slo_percent=hst.floats(90.0, 99.99),
)
def test_more_failures_never_lower_the_burn_rate(failed, extra, slo_percent):
    total = 2000
    lower = slo.burn_rate(failed, total, slo_percent)
    higher = slo.burn_rate(failed + extra, total, slo_percent)
    assert lower is not None and higher is not None
    assert higher >= lower
