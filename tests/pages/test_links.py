"""Every view is a link: the URL sets the view, and each page shows its link."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from reliability.scoring import DEFAULT_WEIGHTS
from reliability.store import Store
from reliability.ui.state import View, read_view
from tests.conftest import open_page

PAGES = [
    pytest.param("app_pages/overview.py", id="overview"),
    pytest.param("app_pages/product.py", id="product"),
    pytest.param("app_pages/trends.py", id="trends"),
]
DEMO = {
    "teams": ["Payments", "Platform", "Customer", "Data"],
    "tiers": [1, 2, 3],
    "products": ["billing", "caims", "atlas"],
}


def run(page: str, **params: str) -> AppTest:
    return open_page(page, **params)


def shared_link(at: AppTest) -> dict[str, list[str]]:
    """The query of the link the sidebar offers to copy."""
    (code,) = at.sidebar.code
    return parse_qs(urlsplit(code.value).query)


@pytest.mark.parametrize(
    "view",
    [
        pytest.param(View(), id="default"),
        pytest.param(View(product="billing", window=30), id="product-window"),
        pytest.param(
            View(
                weights={
                    "runtime": 10.0,
                    "quality": 30.0,
                    "operations": 20.0,
                    "system_health": 40.0,
                },
                teams=("Payments", "Data"),
                tiers=(1,),
                statuses=("Critical",),
                search="bill",
                sort="worst",
            ),
            id="everything",
        ),
    ],
)
def test_view_round_trips_through_its_query_params(view: View) -> None:
    again, notices = read_view(view.query_params(), **DEMO)

    assert notices == []
    assert again == view


@pytest.mark.parametrize("page", PAGES)
def test_every_page_offers_the_link_of_what_it_shows(
    demo_env: Store, page: str
) -> None:
    params = {"w": "10,30,20,40", "team": "Payments", "window": "60"}
    if page.endswith("product.py"):
        params["product"] = "billing"
    at = run(page, **params)

    assert not at.exception
    assert shared_link(at) == {key: [value] for key, value in params.items()}
    assert [s.value for s in at.sidebar.slider] == [10, 30, 20, 40]
    assert at.sidebar.multiselect(key="filter_teams").value == ["Payments"]
    assert at.sidebar.select_slider(key="window").value == 60


@pytest.mark.parametrize("page", PAGES)
def test_bad_params_fall_back_with_a_notice(demo_env: Store, page: str) -> None:
    at = run(
        page, product="nope", w="10,abc", team="Nobody", status="Bogus", window="45"
    )

    assert not at.exception
    notices = " ".join(w.value for w in at.warning)
    for fragment in (
        "no product 'nope'",
        "The weights in the link",
        "Unknown team 'Nobody'",
        "Unknown status 'Bogus'",
        "The window must be",
    ):
        assert fragment in notices
    assert [s.value for s in at.sidebar.slider] == [
        int(v) for v in DEFAULT_WEIGHTS.values()
    ]
    assert dict(at.query_params) == {}
    assert shared_link(at) == {}


def test_moving_a_slider_updates_the_url_and_the_link(demo_env: Store) -> None:
    at = run("app_pages/product.py", product="caims")

    at.sidebar.slider(key="weight_runtime").set_value(60).run()

    assert not at.exception
    assert at.query_params["w"] == "60,30,20,10"
    assert at.query_params["product"] == "caims"
    assert shared_link(at)["w"] == ["60,30,20,10"]
