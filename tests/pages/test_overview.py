"""The portfolio overview, run in Streamlit's real runtime (AppTest)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from reliability.store import Store
from tests.conftest import APP_PATH


@pytest.fixture
def app(demo_env: Store) -> AppTest:
    return AppTest.from_file(APP_PATH, default_timeout=60)


def table(at: AppTest):
    """The overview table, with product names taken from their links."""
    frame = at.dataframe(key="portfolio_table").value.copy()
    frame["link"] = frame["product"]
    frame["product"] = frame["link"].str.split("#").str[-1]
    frame["badges"] = frame["status"]
    frame["status"] = frame["badges"].str[0]
    return frame


def test_overview_shows_every_demo_product_ranked(app: AppTest) -> None:
    app.run()

    assert not app.exception
    assert app.title[0].value == "Portfolio"
    shown = table(app)
    assert len(shown) == 12
    assert shown["overall"].is_monotonic_decreasing
    assert {m.label for m in app.metric} >= {
        ":green[●] Healthy",
        ":red[●] Critical",
        "Portfolio mean",
    }
    assert any("demo portfolio" in info.value for info in app.info)


def test_products_without_data_are_blank_never_zero(app: AppTest) -> None:
    app.run()

    atlas = table(app).set_index("product").loc["Atlas"]
    assert atlas["system_health"] != atlas["system_health"]  # NaN: "no data"
    assert atlas["coverage"] == pytest.approx(90.0)
    assert atlas["link"].startswith("product?product=atlas")


def test_filters_narrow_the_table_and_land_in_the_url(app: AppTest) -> None:
    app.run()
    app.multiselect(key="filter_teams").set_value(["Payments"]).run()

    assert set(table(app)["team"]) == {"Payments"}
    assert app.query_params["team"] == "Payments"

    app.text_input(key="filter_search").set_value("bill").run()
    assert table(app)["product"].tolist() == ["Billing"]


def test_a_weight_change_re_ranks_the_table(app: AppTest) -> None:
    app.run()
    before = table(app)["product"].tolist()

    for key in ("weight_runtime", "weight_operations", "weight_system_health"):
        app.slider(key=key).set_value(0)
    app.run()

    after = table(app)
    assert after["product"].tolist() != before
    # Quality only: the failing gate ranks last of the scored; Sable has no
    # SonarCloud data, so it has no score at all and sits below everything.
    assert after.iloc[-1]["product"] == "Sable"
    assert after.iloc[-1]["status"] == "No data"
    assert after.iloc[-2]["product"] == "Ledger"
    assert app.query_params["w"] == "0,30,0,0"


def test_reset_restores_the_default_weights(app: AppTest) -> None:
    app.query_params["w"] = "0,100,0,0"
    app.run()
    assert app.slider(key="weight_quality").value == 100

    app.button[0].click().run()

    assert app.slider(key="weight_runtime").value == 40
    assert "w" not in app.query_params


def test_a_link_opens_the_view_it_describes(app: AppTest) -> None:
    app.query_params.update({"w": "10,30,20,40", "tier": "1", "status": "Critical"})
    app.run()

    assert app.slider(key="weight_system_health").value == 40
    assert set(table(app)["tier"]) == {1}
    assert set(table(app)["status"]) == {"Critical"}


@pytest.mark.parametrize(
    ("params", "notice"),
    [
        pytest.param(
            {"w": "40,abc,20,10"}, "weights in the link", id="malformed-weights"
        ),
        pytest.param({"w": "0,0,0,0"}, "weights in the link", id="zero-weights"),
        pytest.param({"team": "Nope"}, "Unknown team", id="unknown-team"),
        pytest.param({"product": "nope"}, "no product 'nope'", id="unknown-product"),
        pytest.param({"sort": "sideways"}, "Unknown order", id="unknown-sort"),
    ],
)
def test_bad_links_fall_back_with_a_notice(app: AppTest, params, notice) -> None:
    app.query_params.update(params)
    app.run()

    assert not app.exception
    assert any(notice in w.value for w in app.warning)
    assert len(table(app)) == 12


def test_sorting_by_error_budget_puts_the_worst_first(app: AppTest) -> None:
    app.query_params["sort"] = "budget"
    app.run()

    budgets = table(app)["error_budget"].dropna()
    assert budgets.is_monotonic_increasing


def test_csv_download_offers_what_is_shown(app: AppTest) -> None:
    app.query_params["team"] = "Data"
    app.run()

    button = app.get("download_button")[0]
    assert button.label == "Download CSV"


def test_a_missing_data_file_says_what_to_run(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RELIABILITY_DB", str(tmp_path / "none.duckdb"))
    at = AppTest.from_file(APP_PATH, default_timeout=60)
    at.run()

    assert not at.exception
    assert "make demo" in at.error[0].value


def test_a_broken_portfolio_file_is_named_and_the_rest_renders(
    demo_env: Store, tmp_path, monkeypatch
) -> None:
    config = tmp_path / "portfolio.toml"
    config.write_text('[[products]]\nslug = "adora"\ntier = "one"\n')
    monkeypatch.setenv("RELIABILITY_CONFIG", str(config))
    at = AppTest.from_file(APP_PATH, default_timeout=60)
    at.run()

    assert not at.exception
    assert str(config) in at.error[0].value and "'tier'" in at.error[0].value
    assert len(table(at)) == 12


def test_overrides_from_the_portfolio_file_change_the_scores(
    demo_env: Store, tmp_path, monkeypatch
) -> None:
    at = AppTest.from_file(APP_PATH, default_timeout=60)
    at.run()
    before = table(at).set_index("product").at["Orion", "runtime"]
    config = tmp_path / "portfolio.toml"
    config.write_text(
        "[thresholds.runtime.open_critical_issues]\nbad = 100\n"
        "[thresholds.runtime.new_issues_30d]\nbad = 100\n"
    )
    monkeypatch.setenv("RELIABILITY_CONFIG", str(config))

    at = AppTest.from_file(APP_PATH, default_timeout=60)
    at.run()

    assert not at.exception
    assert table(at).set_index("product").at["Orion", "runtime"] > before + 5
