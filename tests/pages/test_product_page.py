"""The product page on the demo portfolio, driven through AppTest."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from reliability.demo import HOSTILE_TITLE, STORIES
from reliability.store import Store
from tests.conftest import open_page

PAGE = "app_pages/product.py"


def run_product(**params: str) -> AppTest:
    return open_page(PAGE, **params)


def dataframe_with(at: AppTest, column: str):  # noqa: ANN201
    return next(df.value for df in at.dataframe if column in df.value.columns)


@pytest.mark.parametrize("story", [pytest.param(s, id=s.slug) for s in STORIES])
def test_product_page_renders_every_demo_product(demo_env: Store, story) -> None:  # noqa: ANN001
    at = run_product(product=story.slug)

    assert not at.exception
    assert at.title[0].value == story.name
    assert at.query_params["product"] == story.slug
    labels = [m.label for m in at.metric]
    for label in (
        "Overall",
        "Status",
        "Coverage",
        "Change, 7 days",
        "Change, 30 days",
        "Forecast, 14 days",
    ):
        assert label in labels
    subheaders = [s.value for s in at.subheader]
    assert "Why this score" in subheaders
    assert "Last 90 days" in subheaders


def test_product_page_without_product_offers_a_picker(demo_env: Store) -> None:
    at = run_product()

    assert not at.exception
    assert at.title[0].value == "Product"
    assert at.selectbox(key="product_picker").value is None
    assert not at.warning


def test_product_page_picker_opens_the_chosen_product(demo_env: Store) -> None:
    at = run_product(product="billing", w="10,30,20,40")

    at.selectbox(key="product_picker").set_value("caims").run()

    assert not at.exception
    assert at.title[0].value == "CAIMS"
    assert at.query_params["product"] == "caims"
    assert at.query_params["w"] == "10,30,20,40"


def test_product_page_unknown_product_falls_back_with_notice(demo_env: Store) -> None:
    at = run_product(product="no-such-product")

    assert not at.exception
    assert at.title[0].value == "Product"
    assert any("no product 'no-such-product'" in w.value for w in at.warning)
    assert "product" not in at.query_params


def test_product_page_why_lists_every_metric_with_its_cost(demo_env: Store) -> None:
    at = run_product(product="kestrel")
    why = dataframe_with(at, "points_lost")

    assert len(why) == 19
    crash_free = why[why["metric"] == "Crash-free sessions"].iloc[0]
    assert crash_free["value"] == "missing"
    assert "enable release health" in crash_free["note"]
    overall = float(next(m.value for m in at.metric if m.label == "Overall"))
    assert why["points_lost"].sum() == pytest.approx(100 - overall, abs=0.06)


def test_product_page_names_the_missing_source(demo_env: Store) -> None:
    at = run_product(product="atlas")
    why = dataframe_with(at, "points_lost")

    azure = why[why["dimension"] == "System health"]
    assert (azure["value"] == "missing").all()
    assert azure["note"].str.contains("no Azure requests").all()
    assert not any(m.label == "Availability, 30 days" for m in at.metric)


def test_product_page_shows_the_hostile_title_as_text(demo_env: Store) -> None:
    at = run_product(product="billing")
    issues = dataframe_with(at, "permalink")

    assert issues.iloc[0]["title"] == HOSTILE_TITLE
    markdown = [m.value for m in (*at.markdown, *at.caption, *at.title)]
    assert not any("onerror" in text for text in markdown)


def test_product_page_shows_the_error_budget_and_burn_rates(demo_env: Store) -> None:
    at = run_product(product="billing")
    metrics = {m.label: m.value for m in at.metric}

    assert metrics["Error budget left"].endswith("%")
    assert metrics["Downtime left"].endswith("min")
    assert "Page" in metrics["Burn alert"]
    burn = dataframe_with(at, "Burn rate")
    assert list(burn["Window"]) == ["1h", "6h", "1d", "3d"]


def test_product_page_window_comes_from_the_url(demo_env: Store) -> None:
    at = run_product(product="caims", window="30")

    assert "Last 30 days" in [s.value for s in at.subheader]
    assert at.sidebar.select_slider(key="window").value == 30


def test_product_page_reweights_from_the_url(demo_env: Store) -> None:
    default = run_product(product="billing")
    reweighted = run_product(product="billing", w="10,30,20,40")

    def overall(at: AppTest) -> str:
        return next(m.value for m in at.metric if m.label == "Overall")

    assert [s.value for s in reweighted.sidebar.slider] == [10, 30, 20, 40]
    assert overall(default) != overall(reweighted)
